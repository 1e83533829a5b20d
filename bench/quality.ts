/**
 * How good the offline summarizer is, on the labelled set in
 * tests/fixtures/quality/ plus a generated 3.5-day, 10,000-message channel.
 * Each conversation goes through `recap summarize --provider local --json`
 * in-process (the real path: import, prepare, prompt routing, router,
 * map-reduce), and the cited message ids are scored against the labels:
 *
 * - offline-decision-recall: labelled decisions cited by `detailed`;
 * - offline-action-precision / -recall: what `action_items` cites against the labelled action items;
 * - offline-spam-cited: spam messages cited by any type (brief, detailed, comprehensive, action_items);
 * - offline-noise-cited: system notices, attachment-only and link-only messages cited by any type;
 * - offline-time-coverage: share of the labelled time segments `detailed` cites at least once;
 * - offline-open-question-recall: labelled unanswered questions cited by `detailed`.
 *
 * `npm run bench -- quality [--verbose]` (verbose prints each summary to stderr).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { summarizeCommand } from '../src/cli/commands/summarize.ts';
import type { Labels } from '../tests/fixtures/quality/author.ts';
import { longChannel } from '../tests/fixtures/quality/long-channel.ts';
import { writeConversation } from '../tests/fixtures/quality/write.ts';
import { report } from './_report.ts';

const FIXTURES = fileURLToPath(new URL('../tests/fixtures/quality/', import.meta.url));
const TYPES = ['brief', 'detailed', 'comprehensive', 'action_items'] as const;

interface Cited {
  ids: Set<string>;
  text: string;
}

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function summarize(exportPath: string, type: string, dataDir: string, perspective?: string): Promise<Cited> {
  const stdout = new Sink();
  const stderr = new Sink();
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, LOG_LEVEL: 'silent', NODE_ENV: 'production' };
  const argv = [exportPath, '--provider', 'local', '--type', type, '--json', ...(perspective ? ['--perspective', perspective] : [])];
  const code = await summarizeCommand.run({ argv, env, stdout, stderr, cwd: process.cwd() });
  if (code !== 0) throw new Error(`recap summarize ${argv.join(' ')} exited with ${code}: ${stderr.text.slice(0, 500)}`);
  const result = JSON.parse(stdout.text) as { text: string; citations: Array<{ messageId: string }> };
  return { ids: new Set(result.citations.map((c) => c.messageId)), text: result.text };
}

function timestamps(exportPath: string): Map<string, number> {
  const data = JSON.parse(readFileSync(exportPath, 'utf8')) as { messages: Array<{ id: string; timestamp: string }> };
  return new Map(data.messages.map((m) => [m.id, Date.parse(m.timestamp)]));
}

interface Tally {
  hits: number;
  total: number;
}

const ratio = (t: Tally): number => (t.total === 0 ? 1 : t.hits / t.total);

export async function run(args: string[]): Promise<void> {
  const verbose = args.includes('--verbose');
  const work = mkdtempSync(join(tmpdir(), 'recap-bench-quality-'));
  try {
    const long = writeConversation(longChannel(), work);
    const cases = [
      ...readdirSync(FIXTURES)
        .filter((f) => f.endsWith('.labels.json'))
        .sort()
        .map((f) => ({ exportPath: join(FIXTURES, f.replace('.labels.json', '.json')), labelsPath: join(FIXTURES, f) })),
      long,
    ];
    const decisions: Tally = { hits: 0, total: 0 };
    const questions: Tally = { hits: 0, total: 0 };
    const actionsPrecision: Tally = { hits: 0, total: 0 };
    const actionsRecall: Tally = { hits: 0, total: 0 };
    const segments: Tally = { hits: 0, total: 0 };
    const longSegments: Tally = { hits: 0, total: 0 };
    let spamCited = 0;
    let noiseCited = 0;
    let offTopicActions = 0;
    let perspectiveChanges = 0;
    let perspectiveRuns = 0;
    const started = performance.now();
    for (const { exportPath, labelsPath } of cases) {
      const labels = JSON.parse(readFileSync(labelsPath, 'utf8')) as Labels;
      const times = timestamps(exportPath);
      const results = new Map<string, Cited>();
      for (const type of TYPES) results.set(type, await summarize(exportPath, type, join(work, 'data')));
      if (verbose) for (const [type, r] of results) process.stderr.write(`\n=== ${labels.conversation} ${type}\n${r.text}\n`);

      const detailed = results.get('detailed')!;
      const actions = results.get('action_items')!;
      const count = (ids: readonly string[], cited: Set<string>): number => ids.filter((id) => cited.has(id)).length;
      decisions.hits += count(labels.decisions, detailed.ids);
      decisions.total += labels.decisions.length;
      questions.hits += count(labels.openQuestions, detailed.ids);
      questions.total += labels.openQuestions.length;
      const actionSet = new Set(labels.actionItems);
      actionsPrecision.hits += [...actions.ids].filter((id) => actionSet.has(id)).length;
      actionsPrecision.total += actions.ids.size;
      actionsRecall.hits += count(labels.actionItems, actions.ids);
      actionsRecall.total += labels.actionItems.length;
      offTopicActions += count(labels.offTopic, actions.ids);
      for (const r of results.values()) {
        spamCited += count(labels.spam, r.ids);
        noiseCited += count(labels.noise, r.ids);
      }
      const citedTimes = [...detailed.ids].flatMap((id) => (times.has(id) ? [times.get(id)!] : []));
      const covered = labels.segments.filter((s) => citedTimes.some((t) => t >= Date.parse(s.from) && t <= Date.parse(s.to))).length;
      segments.hits += covered;
      segments.total += labels.segments.length;
      if (exportPath === long.exportPath) {
        longSegments.hits = covered;
        longSegments.total = labels.segments.length;
      }
      // Perspective should change what is picked: executive and developer against general.
      for (const perspective of ['executive', 'developer', 'support']) {
        const other = await summarize(exportPath, 'detailed', join(work, 'data'), perspective);
        if (verbose) process.stderr.write(`\n=== ${labels.conversation} detailed/${perspective}\n${other.text}\n`);
        perspectiveRuns++;
        const same = other.ids.size === detailed.ids.size && [...other.ids].every((id) => detailed.ids.has(id));
        if (!same) perspectiveChanges++;
      }
    }
    report('offline-decision-recall', ratio(decisions), 'ratio');
    report('offline-action-precision', ratio(actionsPrecision), 'ratio');
    report('offline-action-recall', ratio(actionsRecall), 'ratio');
    report('offline-spam-cited', spamCited, 'messages');
    report('offline-time-coverage', ratio(segments), 'ratio');
    report('offline-time-coverage-long-channel', ratio(longSegments), 'ratio');
    report('offline-open-question-recall', ratio(questions), 'ratio');
    report('offline-noise-cited', noiseCited, 'messages');
    report('offline-off-topic-action-items', offTopicActions, 'messages');
    report('offline-perspective-changes-selection', perspectiveRuns === 0 ? 0 : perspectiveChanges / perspectiveRuns, 'ratio');
    report('offline-quality-wall', Math.round(performance.now() - started), 'ms');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
