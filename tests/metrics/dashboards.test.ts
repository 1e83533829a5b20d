/**
 * deploy/grafana/recap-bot.json and deploy/prometheus/alerts.yml query only
 * metrics the bot really exposes: every PromQL expression parses (with the
 * Prometheus project's own grammar), and every metric it names appears in
 * the /metrics output of a started app, single-process and as a shard
 * manager merges it (SHARDS).
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config/env.ts';
import { installFatalPolicy, type FatalPolicy } from '../../src/process/fatal-policy.ts';
import { mountShardedMetrics } from '../../src/sharding/metrics-route.ts';
import { REPO_ROOT } from '../e2e/harness.ts';
import { startDiscordEmulator, type DiscordEmulator } from '../emulators/discord/server.ts';
import { createPgliteDatabase, silentLogger } from '../helpers/databases.ts';

const DASHBOARD = join(REPO_ROOT, 'deploy/grafana/recap-bot.json');
const ALERTS = join(REPO_ROOT, 'deploy/prometheus/alerts.yml');

interface Query {
  where: string;
  expr: string;
}

interface Panel {
  title?: string;
  type?: string;
  panels?: Panel[];
  targets?: Array<{ expr?: string; refId?: string; datasource?: { uid?: string } }>;
}

function dashboardQueries(): Query[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { uid?: string; title?: string; panels?: Panel[] };
  expect(dashboard.uid).toBe('recap-bot');
  expect(dashboard.title).toBe('recap-bot');
  const queries: Query[] = [];
  const visit = (panels: Panel[]): void => {
    for (const panel of panels) {
      visit(panel.panels ?? []);
      for (const target of panel.targets ?? []) {
        expect(target.refId, `a target of "${panel.title}" has no refId`).toBeTruthy();
        expect(target.datasource?.uid, `"${panel.title}" must use the dashboard's datasource variable`).toBe('${datasource}');
        queries.push({ where: `dashboard panel "${panel.title}" ${target.refId}`, expr: target.expr ?? '' });
      }
    }
  };
  visit(dashboard.panels ?? []);
  return queries;
}

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function alertQueries(): { queries: Query[]; rules: Rule[] } {
  const file = parseYaml(readFileSync(ALERTS, 'utf8')) as { groups?: Array<{ name?: string; rules?: Rule[] }> };
  const rules = (file.groups ?? []).flatMap((group) => group.rules ?? []);
  return { rules, queries: rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr ?? '' })) };
}

/** Grafana's interval variables, replaced by a duration as Grafana does before sending the query. */
function withGrafanaVariables(expr: string): string {
  return expr.replaceAll(/\$__(rate_interval|interval|range)\b/g, '5m');
}

/** The metric names a PromQL expression selects; throws where the grammar finds an error. */
function metricNames(query: Query): string[] {
  const expr = withGrafanaVariables(query.expr);
  const names: string[] = [];
  const cursor = parser.parse(expr).cursor();
  do {
    if (cursor.type.isError) throw new Error(`${query.where}: PromQL does not parse at ${cursor.from}: ${JSON.stringify(expr.slice(Math.max(0, cursor.from - 20), cursor.from + 20))}`);
    if (cursor.type.name === 'Identifier' && cursor.node.parent?.type.name === 'VectorSelector') names.push(expr.slice(cursor.from, cursor.to));
  } while (cursor.next());
  return names;
}

/** Every series name an exposition text can hold: each TYPE'd family, a histogram's _bucket/_sum/_count, each sample. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(`${name}${suffix}`);
  }
  for (const [, name] of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)) names.add(name!);
  return names;
}

describe('the Grafana dashboard and the Prometheus alert rules', () => {
  let discord: DiscordEmulator;
  let app: App;
  let policy: FatalPolicy;
  let exposed: Set<string>;
  const scrapes: Record<'single' | 'sharded', string> = { single: '', sharded: '' };

  beforeAll(async () => {
    discord = await startDiscordEmulator({ botToken: 'dashboards-token' });
    discord.addGuild({ name: 'dashboards' });
    const config = loadConfig({
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      DATABASE_MIGRATE_ON_START: 'false',
      DISCORD_TOKEN: 'dashboards-token',
      DISCORD_API_URL: discord.apiUrl,
      DISCORD_REGISTER_COMMANDS: 'false',
    });
    app = await createApp(config, silentLogger, { database: await createPgliteDatabase() });
    // As src/main.ts does; the process stand-in only ever receives listeners here.
    policy = installFatalPolicy({
      process: Object.assign(new EventEmitter(), {
        exit: () => {
          throw new Error('the fatal policy tried to exit');
        },
      }),
      logger: silentLogger,
    });
    policy.attach({ metrics: app.metrics, stop: () => app.stop() });
    const { url } = await app.start();
    scrapes.single = await (await fetch(`${url}/metrics`)).text();
    // What a shard manager serves: its own metrics merged with each shard process's (here this app's, as shard 0).
    mountShardedMetrics(app.http, app.metrics, { collectMetrics: async () => [{ process: '0', metrics: await app.metrics.getMetricsAsJSON() }] });
    scrapes.sharded = await (await fetch(`${url}/metrics`)).text();
    exposed = new Set([...exposedNames(scrapes.single), ...exposedNames(scrapes.sharded)]);
  }, 60_000);

  afterAll(async () => {
    policy?.uninstall();
    await app?.stop();
    await discord?.close();
  });

  it('the alert rules are well-formed and cover what operators page on', () => {
    const { rules } = alertQueries();
    for (const rule of rules) {
      expect(rule.alert, JSON.stringify(rule)).toMatch(/^Recap[A-Za-z]+$/);
      expect(rule.labels?.['severity'], `${rule.alert}: severity`).toMatch(/^(page|warning|info)$/);
      expect(rule.annotations?.['summary'], `${rule.alert}: summary`).toBeTruthy();
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
    }
    const names = rules.map((r) => r.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const required of ['RecapSummariesFailing', 'RecapBudgetExhausted', 'RecapWebhooksFailing', 'RecapPromptRepoUnreachable', 'RecapDiscordShardDown', 'RecapShardProcessDown']) {
      expect(names).toContain(required);
    }
  });

  it('every query parses and names only metrics /metrics exposes', () => {
    const queries = [...dashboardQueries(), ...alertQueries().queries];
    expect(queries.length).toBeGreaterThan(20);
    const missing: string[] = [];
    let used = 0;
    for (const query of queries) {
      const names = metricNames(query);
      expect(names.length, `${query.where} selects no metric`).toBeGreaterThan(0);
      used += names.length;
      for (const name of names) if (!exposed.has(name)) missing.push(`${query.where}: ${name}`);
    }
    expect(missing).toEqual([]);
    expect(used).toBeGreaterThan(queries.length - 1);
  });

  it('the scrape itself: standard process and Node names, the Discord shard with its state', () => {
    expect(scrapes.single).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(scrapes.single).toMatch(/^nodejs_eventloop_lag_p99_seconds /m);
    expect(scrapes.single).toMatch(/^recap_discord_shard_up\{shard="0"\} 1$/m);
    expect(scrapes.sharded).toMatch(/^recap_shard_up\{shard="0"\} 1$/m);
    expect(scrapes.sharded).toMatch(/^process_resident_memory_bytes\{shard="manager"\} \d+/m);
  });

  it('a misspelt metric would be caught', () => {
    const names = metricNames({ where: 'probe', expr: 'sum(rate(recap_discord_interaction_total[$__rate_interval]))' });
    expect(names).toEqual(['recap_discord_interaction_total']);
    expect(exposed.has(names[0]!)).toBe(false);
    expect(() => metricNames({ where: 'probe', expr: 'sum(rate(recap_llm_cost_usd_total[5m])' })).toThrow(/does not parse/);
  });
});
