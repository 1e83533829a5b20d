import type { APIEmbed } from 'discord.js';
import type { RepositoryReport } from '../../prompts/engine.ts';
import { hasErrors } from '../../prompts/problems.ts';
import { EmbedColors, boundedEmbed } from '../format/embed.ts';
import { DiscordLimits } from '../format/limits.ts';
import { boundedCodeLines, inlineCode, plural, shortSha, truncate } from '../format/text.ts';
import { countProblems, problemsBlock } from './problems-text.ts';

/**
 * A repository passes when the engine could read and route it and no
 * problem is an error. The engine serves a repository with a broken file by
 * skipping that file; an admin setting it up should still see it fail.
 */
export function passes(report: RepositoryReport): boolean {
  return report.ok && !hasErrors(report.problems);
}

/** GitHub refused or failed, as opposed to content that does not validate. */
export function readFailed(report: RepositoryReport): boolean {
  return report.outcome.kind === 'denied' || report.outcome.kind === 'failed';
}

export type ReportOutcome = 'saved' | 'not-saved' | 'saved-anyway' | 'refreshed' | 'cancelled';

const FILES_SHOWN = 10;

/**
 * What the engine found in a repository, as one embed: where (repo@branch,
 * commit), how it routes (schema, routes), what it holds (files) and what is
 * wrong (problems as file:line:col, errors first).
 */
export function repositoryReportEmbed(report: RepositoryReport, outcome: ReportOutcome, note?: string): APIEmbed {
  const where = `${report.repo}@${report.branch}`;
  const headline: Record<ReportOutcome, string> = {
    saved: passes(report) ? `Saved ${where}` : `Saved ${where} (with problems)`,
    'saved-anyway': `Saved ${where} anyway: fix it later`,
    'not-saved': readFailed(report) ? `${where} could not be read: not saved` : `${where} did not pass validation: not saved`,
    refreshed: report.ok ? `Refreshed ${where}` : `Could not refresh ${where}`,
    cancelled: `Cancelled: ${where} was not saved`,
  };
  const color = passes(report)
    ? EmbedColors.ok
    : outcome === 'cancelled'
      ? EmbedColors.info
      : outcome === 'not-saved'
        ? EmbedColors.error
        : EmbedColors.warning;

  const lead: string[] = [];
  if (note !== undefined) lead.push(note);
  // An invalid commit's error repeats its problems, which are listed below anyway; a note may already say it all.
  const listsErrors = report.problems.some((p) => p.severity === 'error');
  if (report.error !== undefined && !listsErrors && note === undefined) lead.push(`**Could not read it:** ${truncate(report.error, 600)}`);
  if (report.problems.length > 0 || report.error === undefined) lead.push(`**Problems:** ${countProblems(report.problems)}`);
  const leadText = lead.join('\n');
  const descriptionRoom = Math.min(DiscordLimits.embedDescription, 2_400) - leadText.length - 1;
  const description = report.problems.length === 0 ? leadText : `${leadText}\n${problemsBlock(report.problems, Math.max(200, descriptionRoom))}`;

  const schema =
    report.version === null ? 'unknown (PATH not readable)' : `${report.version} (${formatName(report.format)})`;
  const routes = report.routes.map((r) => `${r.name} → ${r.pattern}`);
  const filesText =
    report.files.length === 0
      ? 'none'
      : `${report.files.length} prompt file${report.files.length === 1 ? '' : 's'}\n${boundedCodeLines(report.files.slice(0, FILES_SHOWN), {
          max: DiscordLimits.fieldValue - 40,
          total: report.files.length,
        })}`;

  return boundedEmbed({
    title: headline[outcome],
    color,
    description,
    fields: [
      { name: 'Commit', value: report.commit === null ? 'none read' : inlineCode(shortSha(report.commit)), inline: true },
      { name: 'Schema', value: schema, inline: true },
      {
        name: `Routes (${report.routes.length})`,
        value: routes.length === 0 ? 'none' : boundedCodeLines(routes, { max: DiscordLimits.fieldValue, more: (n) => `…and ${plural(n, 'more route', 'more routes')}` }),
      },
      { name: 'Files found', value: filesText },
    ],
  });
}

function formatName(format: string | null): string {
  switch (format) {
    case 'yaml-v1':
      return 'YAML routes, v1';
    case 'yaml-v2':
      return 'YAML routes, v2';
    case 'lines':
      return 'line patterns';
    default:
      return 'unknown format';
  }
}
