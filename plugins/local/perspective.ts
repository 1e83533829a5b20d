/**
 * What each reader cares about, as weights on the kinds of message and the
 * order of the summary's sections. The facts stay the same; what is picked
 * and what comes first change.
 */
import type { MessageKind } from './classify.ts';

export type Section = 'decisions' | 'topics' | 'questions' | 'actions';

export interface Perspective {
  name: string;
  order: readonly Section[];
  /** Multiplies a message's score when choosing a topic's key messages. */
  weight(kind: MessageKind): number;
  /** Support readers want reported problems that nobody resolved listed with the open questions. */
  unresolvedProblems: boolean;
}

const GENERAL: Perspective = {
  name: 'general',
  order: ['decisions', 'topics', 'questions', 'actions'],
  weight: (kind) => (kind.outcome ? 1.2 : 1),
  unresolvedProblems: false,
};

const EXECUTIVE: Perspective = {
  name: 'executive',
  order: ['decisions', 'actions', 'questions', 'topics'],
  weight: (kind) => (kind.outcome ? 2.2 : 1) * (kind.technical && !kind.outcome ? 0.6 : 1) * (kind.problem ? 1.3 : 1),
  unresolvedProblems: false,
};

const DEVELOPER: Perspective = {
  name: 'developer',
  order: ['topics', 'decisions', 'questions', 'actions'],
  weight: (kind) => (kind.technical ? 2.2 : 0.6) * (kind.problem ? 1.3 : 1),
  unresolvedProblems: false,
};

const SUPPORT: Perspective = {
  name: 'support',
  order: ['questions', 'topics', 'actions', 'decisions'],
  weight: (kind) => (kind.problem ? 2.2 : 1) * (kind.question ? 1.5 : 1) * (kind.outcome ? 1.4 : 1),
  unresolvedProblems: true,
};

const PRODUCT: Perspective = {
  name: 'product',
  order: ['decisions', 'topics', 'questions', 'actions'],
  weight: (kind) => (kind.outcome ? 1.6 : 1) * (kind.question ? 1.3 : 1) * (kind.technical ? 0.8 : 1),
  unresolvedProblems: false,
};

const ALIASES: Readonly<Record<string, Perspective>> = {
  general: GENERAL,
  executive: EXECUTIVE,
  manager: EXECUTIVE,
  management: EXECUTIVE,
  leadership: EXECUTIVE,
  finance: EXECUTIVE,
  developer: DEVELOPER,
  engineer: DEVELOPER,
  engineering: DEVELOPER,
  dev: DEVELOPER,
  technical: DEVELOPER,
  support: SUPPORT,
  helpdesk: SUPPORT,
  moderator: SUPPORT,
  product: PRODUCT,
  marketing: PRODUCT,
  design: PRODUCT,
};

export function perspectiveOf(name: string | undefined): Perspective {
  const key = (name ?? 'general').toLowerCase();
  return Object.hasOwn(ALIASES, key) ? ALIASES[key]! : GENERAL;
}
