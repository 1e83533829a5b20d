import { resolveLimits, type PromptLimits } from './limits.ts';
import type { ParsedRepo, PromptFile, Route, Routing } from './parsed.ts';
import { PATH_FILE, parsePathFile } from './path-file.ts';
import { hasErrors, makeProblem, quote, REPOSITORY_FILE } from './problems.ts';
import { createPromptCompiler } from './prompt-compiler.ts';
import { BODY_VARIABLES } from './prompt-body.ts';
import { isSafeSnapshotPath } from './repo-path.ts';
import { BoundedMemo, type RouteMemoEntry } from './route-memo.ts';
import { matchesTemplate } from './route-match.ts';
import { expandTemplate } from './route-template.ts';
import { decodeUtf8 } from './text.ts';
import type { Problem, RawSnapshot } from './types.ts';

const SCHEMA_VERSION_FILE = 'schema-version';

interface SnapshotParse {
  /** Null when the repository fails validation; the resolver then moves to the next level. */
  repo: ParsedRepo | null;
  /** Everything found, errors and warnings, each with its file and where known its line and column. */
  problems: Problem[];
}

export interface ParseOptions {
  /**
   * Go on past the errors that fail the repository, to report every problem
   * that can be found in one run (`prompts validate`): the snapshot's limits,
   * `schema-version` beside a broken PATH, and the prompt files that the
   * routes understood reach. The repository still fails.
   */
  exhaustive?: boolean;
}

/**
 * Validates one snapshot of a prompt repository and compiles it for routing
 * and rendering. Never throws on repository content: every defect becomes a
 * located problem. Errors in PATH, `schema-version` or the snapshot's limits
 * fail the repository; errors in a prompt file skip that file only.
 */
export function parseSnapshot(raw: RawSnapshot, overrides?: Partial<PromptLimits>, options: ParseOptions = {}): SnapshotParse {
  const exhaustive = options.exhaustive === true;
  const limits = resolveLimits(overrides);
  const problems: Problem[] = [];
  const report = (p: Problem): void => void problems.push(p);
  const fail = (): SnapshotParse => ({ repo: null, problems });

  for (const entry of raw.skipped) {
    report(makeProblem('warning', 'snapshot.skipped', entry.path, `was not read: ${entry.reason}`));
  }
  if (raw.files.size > limits.maxFiles) {
    report(
      makeProblem('error', 'snapshot.too-many-files', REPOSITORY_FILE, `the repository holds ${raw.files.size} files; at most ${limits.maxFiles} are allowed (move unrelated files elsewhere)`),
    );
    if (!exhaustive) return fail();
  }
  let total = 0;
  for (const bytes of raw.files.values()) total += bytes.byteLength;
  if (total > limits.snapshotBytes) {
    report(
      makeProblem('error', 'snapshot.too-large', REPOSITORY_FILE, `the repository holds ${formatBytes(total)}; at most ${formatBytes(limits.snapshotBytes)} are allowed (move large files elsewhere)`),
    );
    if (!exhaustive) return fail();
  }
  const files = new Map<string, Uint8Array>();
  for (const [path, bytes] of raw.files) {
    if (isSafeSnapshotPath(path)) files.set(path, bytes);
    else report(makeProblem('warning', 'snapshot.unsafe-path', REPOSITORY_FILE, `the file name ${quote(path)} is not a safe repository path, so the file is ignored`));
  }

  const { routing, partial } = readRouting(files, limits, report, exhaustive);
  if (routing === null || hasErrors(problems)) {
    // Only to find more problems: the prompt files the routes that were understood reach.
    if (exhaustive && (routing ?? partial) !== null) compileRouted(routing ?? (partial as Routing), files, limits, report);
    return fail();
  }

  const compiled = compileRouted(routing, files, limits, report);
  if (compiled === null) return fail();
  const { markdown, prompts, skipped, routed, used, reach } = compiled;
  warnAboutRoutes(routing, markdown, prompts, reach, report);
  if (reach.spent()) return fail();
  if (prompts.size === 0) {
    const example = routing.chain[0] ? allDefault(routing.chain[0]) : 'default.md';
    report(
      makeProblem('error', 'snapshot.no-prompts', REPOSITORY_FILE, `no prompt file that a route reaches can be used; add one such as ${quote(example)}`),
    );
    return fail();
  }
  return {
    repo: Object.freeze({
      commit: raw.commit,
      routing,
      prompts,
      skipped,
      unreferenced: Object.freeze(markdown.filter((p) => !routed.has(p) && !used.has(p))),
      memo: new BoundedMemo<RouteMemoEntry>(limits.routeMemoEntries),
    }),
    problems,
  };
}

interface RoutedPrompts {
  markdown: string[];
  prompts: Map<string, PromptFile>;
  skipped: Map<string, string>;
  routed: Set<string>;
  used: ReadonlySet<string>;
  reach: RouteMatcher;
}

/** Compiles the prompt files the routes reach; null when matching the routes ran out of budget. */
function compileRouted(routing: Routing, files: ReadonlyMap<string, Uint8Array>, limits: PromptLimits, report: (p: Problem) => void): RoutedPrompts | null {
  const compiler = createPromptCompiler({
    read: (path) => files.get(path),
    limits,
    version: routing.version,
    known: new Set([...BODY_VARIABLES, ...Object.keys(routing.variables)]),
    report,
  });
  const markdown = [...files.keys()].filter((p) => p.endsWith('.md')).sort();
  const reach = routeMatcher(limits, report);
  const routedPaths = markdown.filter((path) => routing.chain.some((r) => reach(r, path)));
  if (reach.spent()) return null;
  const prompts = new Map<string, PromptFile>();
  const skipped = new Map<string, string>();
  const routed = new Set<string>();
  for (const path of routedPaths) {
    routed.add(path);
    const outcome = compiler.compile(path);
    if (outcome.ok) prompts.set(path, outcome.prompt);
    else skipped.set(path, outcome.reason);
  }
  return { markdown, prompts, skipped, routed, used: compiler.used(), reach };
}

interface RoutingRead {
  routing: Routing | null;
  /** The routes understood despite errors (exhaustive reads only). */
  partial: Routing | null;
}

function readRouting(files: ReadonlyMap<string, Uint8Array>, limits: PromptLimits, report: (p: Problem) => void, exhaustive: boolean): RoutingRead {
  const none: RoutingRead = { routing: null, partial: null };
  // A broken PATH hides nothing about `schema-version`, so an exhaustive read checks it anyway.
  const schemaAlone = (): RoutingRead => {
    if (exhaustive) readSchemaVersion(files, report);
    return none;
  };
  const bytes = files.get(PATH_FILE);
  if (bytes === undefined) {
    report(
      makeProblem('error', 'snapshot.no-path-file', PATH_FILE, 'is missing: the repository needs a PATH file at its root that routes requests to prompt files'),
    );
    return schemaAlone();
  }
  if (bytes.byteLength > limits.pathFileBytes) {
    report(makeProblem('error', 'path.too-large', PATH_FILE, `is ${formatBytes(bytes.byteLength)}; at most ${formatBytes(limits.pathFileBytes)} are allowed`));
    return schemaAlone();
  }
  const decoded = decodeUtf8(bytes, PATH_FILE);
  if (!decoded.ok) {
    report(decoded.problem);
    return schemaAlone();
  }
  const parsed = parsePathFile(decoded.text, limits);
  parsed.problems.forEach(report);
  const understood = parsed.routing ?? (exhaustive ? parsed.partial : null);
  if (understood === null) return schemaAlone();
  const partial = exhaustive ? understood : null;
  const schema = readSchemaVersion(files, report);
  if (schema === 'invalid') return { routing: null, partial };
  if (schema !== null && schema !== understood.version) {
    const what = understood.format === 'lines' ? 'PATH holds line patterns, which are v1' : `PATH says version ${understood.version}`;
    report(
      makeProblem('error', 'schema-version.mismatch', SCHEMA_VERSION_FILE, `says \`${schema}\` but ${what}; make them agree`, { line: 1, column: 1 }),
    );
    return { routing: null, partial };
  }
  return { routing: parsed.routing, partial };
}

function readSchemaVersion(files: ReadonlyMap<string, Uint8Array>, report: (p: Problem) => void): 'v1' | 'v2' | 'invalid' | null {
  const bytes = files.get(SCHEMA_VERSION_FILE);
  if (bytes === undefined) return null;
  if (bytes.byteLength > 1024) {
    report(makeProblem('error', 'schema-version.format', SCHEMA_VERSION_FILE, 'must hold one line, `v1` or `v2`'));
    return 'invalid';
  }
  const decoded = decodeUtf8(bytes, SCHEMA_VERSION_FILE);
  if (!decoded.ok) {
    report(decoded.problem);
    return 'invalid';
  }
  const text = decoded.text.trim();
  if (text === 'v1' || text === '1') return 'v1';
  if (text === 'v2' || text === '2') return 'v2';
  report(
    makeProblem('error', 'schema-version.format', SCHEMA_VERSION_FILE, `holds ${quote(text)}; it must hold one line, \`v1\` or \`v2\``, { line: 1, column: 1 }),
  );
  return 'invalid';
}

/** Routes that reach no file, and a repo where no route always finds one. */
function warnAboutRoutes(
  routing: Routing,
  markdown: readonly string[],
  prompts: ReadonlyMap<string, PromptFile>,
  reach: RouteMatcher,
  report: (p: Problem) => void,
): void {
  for (const route of routing.chain) {
    if (markdown.some((p) => reach(route, p))) continue;
    if (reach.spent()) return;
    const at = route.location.line !== undefined ? { line: route.location.line, column: route.location.column ?? 1 } : undefined;
    const what = routing.format === 'lines' ? `the pattern ${quote(route.template.source)}` : `route \`${route.name}\` (${quote(route.template.source)})`;
    const message =
      route.template.variables.length === 0
        ? `${what} names a file that is not in the repository`
        : `${what} matches no file in the repository`;
    report(makeProblem('warning', 'path.route-target-missing', route.location.file, message, at));
  }
  const catchAll = routing.chain.some((r) => r.when === null && prompts.has(allDefault(r)));
  if (!catchAll && routing.chain.length > 0) {
    const last = routing.chain[routing.chain.length - 1]!;
    report(
      makeProblem(
        'warning',
        'path.no-catch-all',
        PATH_FILE,
        `no route always finds a file, so some requests will use the bot's bundled prompts; add a file such as ${quote(allDefault(last))}`,
      ),
    );
  }
}

type RouteMatcher = ((route: Route, path: string) => boolean) & { spent(): boolean };

/**
 * Matches routes against file names within one budget for the whole
 * snapshot; the route being matched when it runs out is reported once.
 */
function routeMatcher(limits: PromptLimits, report: (p: Problem) => void): RouteMatcher {
  const budget = { remaining: limits.routeMatchSteps };
  let spent = false;
  const reach = (route: Route, path: string): boolean => {
    if (spent) return false;
    const matched = matchesTemplate(route.template, path, budget);
    if (budget.remaining < 0) {
      spent = true;
      const at = route.location.line !== undefined ? { line: route.location.line, column: route.location.column ?? 1 } : undefined;
      report(
        makeProblem(
          'error',
          'path.too-complex',
          route.location.file,
          `route \`${route.name}\` (${quote(route.template.source)}) takes more than ${limits.routeMatchSteps.toLocaleString('en-US')} steps to match against the repository's file names; put \`/\` or \`.\` between variables instead of nothing or letters`,
          at,
        ),
      );
    }
    return matched;
  };
  return Object.assign(reach, { spent: () => spent });
}

/** The path a route gives when every variable falls back to `default`. */
function allDefault(route: Route): string {
  return expandTemplate(route.template, [], route.template.variables.length);
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1).replace(/\.0$/, '')} KiB`;
  return `${bytes} bytes`;
}
