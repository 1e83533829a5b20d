import type { RouteMemo } from './route-memo.ts';
import type { RouteTemplate } from './route-template.ts';
import type { ModelParameters, SourceLocation } from './types.ts';

/**
 * The parsed form of one repository snapshot. Everything a request needs is
 * precompiled here (route templates, prompt bodies with includes expanded),
 * so routing and rendering never parse anything.
 */
export interface ParsedRepo {
  readonly commit: string;
  readonly routing: Routing;
  /** Prompt files routes can reach, by path, ready to render. */
  readonly prompts: ReadonlyMap<string, PromptFile>;
  /** Prompt files routes reach that could not be used, with the reason. */
  readonly skipped: ReadonlyMap<string, string>;
  /** `.md` files no route can reach and no prompt includes (READMEs, docs). */
  readonly unreferenced: readonly string[];
  /** Remembers routing per request context; bounded, owned by this snapshot. */
  readonly memo: RouteMemo;
}

export type PathFormat = 'yaml-v1' | 'lines' | 'yaml-v2';

export interface Routing {
  readonly format: PathFormat;
  readonly version: 'v1' | 'v2';
  /** In file order. */
  readonly routes: readonly Route[];
  /** Route names, as given or defaulted to file order. */
  readonly fallbackChain: readonly string[];
  /** The routes of the fallback chain, in its order. */
  readonly chain: readonly Route[];
  /** Defaults from the PATH file's `variables`, by name. */
  readonly variables: Readonly<Record<string, string>>;
  /** Every variable the routes and `when` filters read: the inputs of routing. */
  readonly keyVariables: readonly string[];
}

export interface Route {
  /** A lowercase identifier; `line N` for line patterns. */
  readonly name: string;
  readonly template: RouteTemplate;
  /** v2: the route applies only when every listed variable has one of the listed values. */
  readonly when: WhenFilter | null;
  readonly location: SourceLocation;
}

/** Conditions on sanitized variable values; all must hold. */
export type WhenFilter = ReadonlyArray<{ readonly variable: string; readonly values: ReadonlySet<string> }>;

/** Literal text, or the name of a variable to substitute. */
export type BodySegment = string | { readonly variable: string };

/** Anything that can be rendered: a prompt file or the compiled-in fallback. */
export interface RenderablePrompt {
  readonly segments: readonly BodySegment[];
}

export interface PromptFile extends RenderablePrompt {
  readonly path: string;
  readonly description: string | undefined;
  readonly parameters: ModelParameters;
  /** Every file expanded into this prompt, transitively, in first-use order. */
  readonly includes: readonly string[];
  /** UTF-8 size of the template after includes. */
  readonly bytes: number;
}
