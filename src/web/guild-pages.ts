import type { Guild } from 'discord.js';
import { recordAudit } from '../audit/audit-log.ts';
import { findDigest, lastRuns, listDigests, scheduleOf, setPaused } from '../digests/digest-store.ts';
import { nextRunAfter } from '../digests/schedule.ts';
import { createCheckedDigest } from '../discord/digest/new-digest.ts';
import { UserFacingError } from '../discord/errors.ts';
import { discordTextToPlain } from './discord-text.ts';
import { GuildAiSettingsError } from '../llm/guild-ai-settings.ts';
import { GuildKeyError } from '../llm/guild-keys.ts';
import { DAY_MS } from '../llm/budget-ledger.ts';
import { PROMPT_CATEGORY } from '../prompts/routed-values.ts';
import { routeChoice, summaryContext } from '../summaries/summary-context.ts';
import { recentSummaries, summaryHistory } from './data/summary-history.ts';
import { summarizedChannels } from '../summaries/history.ts';
import { usageDays } from './data/usage-days.ts';
import type { ViewChannel } from './bot-view.ts';
import type { Html } from './html.ts';
import type { GuildTab, PageChrome } from './layout.ts';
import { digestsPage, type DigestsData } from './pages/digests-page.ts';
import { historyPage } from './pages/history-page.ts';
import { keysPage, type KeysData } from './pages/keys-page.ts';
import { overviewPage } from './pages/overview-page.ts';
import { testerPage, type TesterInput } from './pages/tester-page.ts';
import { usagePage } from './pages/usage-page.ts';
import type { DashboardDeps } from './routes.ts';
import type { WebSession } from './session-store.ts';

export interface GuildRequest {
  guild: Guild;
  session: WebSession;
  /** Manage Server, checked now. */
  admin: boolean;
  query: URLSearchParams;
  /** POST only: the form, its CSRF token already checked. */
  form: URLSearchParams | undefined;
}

type Chrome = Omit<PageChrome, 'title'>;
type Answer = { page: Html } | { redirect: string };

export interface GuildPage {
  admin: boolean;
  tab: GuildTab;
  run(request: GuildRequest, chrome: Chrome): Promise<Answer>;
}

const HISTORY_LIMIT = 50;
const USAGE_DAYS = 90;
/** The overview's glance covers this many days (the usage page has the rest). */
const GLANCE_DAYS = 7;
const DIGEST_RUNS_SHOWN = 5;
/** After a form post, the page says what happened: fixed texts only, never text from the address. */
const NOTICES: Record<string, string> = {
  refreshed: 'The repository was read again now; what is below is the result.',
  'key-saved': 'Key saved. It is used only for this server\'s requests and is never shown again.',
  'key-removed': 'Key removed.',
  'settings-saved': 'Budget and provider order saved.',
  'digest-paused': 'Digest paused: it runs no more until resumed.',
  'digest-resumed': 'Digest resumed: it runs next at its schedule\'s next time.',
  'digest-created': 'Digest created: it runs first at its schedule\'s next time.',
};

const notice = (query: URLSearchParams): string | undefined => NOTICES[query.get('done') ?? ''];

function dateParam(value: string | null): { text: string; date: Date | undefined } | 'invalid' {
  if (value === null || value === '') return { text: '', date: undefined };
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) return 'invalid';
  return { text: value, date: new Date(`${value}T00:00:00Z`) };
}

/** The guild's pages by `METHOD segment` (the segment after /guilds/<id>/; '' is the overview). */
export function guildPages(deps: DashboardDeps): Record<string, GuildPage> {
  const { db, clock, prompts, llm, bot } = deps;
  const actor = (r: GuildRequest) => ({ actorId: r.session.userId });

  const keysData = async (guildId: string, extra: Pick<KeysData, 'notice' | 'error'>): Promise<KeysData> => {
    const enabled = llm.enabledProviders();
    const settings = await llm.settings.get(guildId);
    const takesKey = enabled.filter((name) => name !== 'local');
    return {
      providers: await Promise.all(takesKey.map(async (name) => ({ name, storedAt: await llm.keys.storedAt(guildId, name) }))),
      enabled,
      providerOrder: settings.providerOrder,
      dailyBudgetUsd: settings.dailyBudgetUsd ?? null,
      allowOperatorKey: settings.allowOperatorKey,
      ...extra,
    };
  };

  const timeZones = Intl.supportedValuesOf('timeZone');
  const digestsData = async (r: GuildRequest, extra: Pick<DigestsData, 'notice' | 'error' | 'draft'>): Promise<DigestsData> => {
    const digests = await listDigests(db, r.guild.id);
    const runs = await Promise.all(digests.map((d) => lastRuns(db, d.id, DIGEST_RUNS_SHOWN)));
    const readable = bot.textChannels(r.guild, await bot.readableChannels(r.guild, r.session.userId));
    const categories = viewableCategories(r.guild, readable);
    return {
      digests: digests.map((digest, i) => ({ digest, runs: runs[i] ?? [] })),
      names: new Map([...categories, ...readable].map((c) => [c.id, c.name])),
      choices: { channels: readable, categories, timeZones },
      ...extra,
    };
  };

  /** Categories named to the viewer: those holding a channel they can read. */
  const viewableCategories = (guild: Guild, readable: readonly ViewChannel[]): ViewChannel[] => {
    const parents = new Set(readable.map((c) => guild.channels.cache.get(c.id)?.parentId));
    return bot.categories(guild).filter((c) => parents.has(c.id));
  };

  /** The form's create: the same rules as `/digest create`, against the guild as the bot's REST view has it now. */
  const createFromForm = async (r: GuildRequest, form: URLSearchParams): Promise<{ redirect: string } | { refused: string }> => {
    // Fetches the guild's roles and channels (with their overwrites), which the rules read from the caches.
    const readable = await bot.readableChannels(r.guild, r.session.userId);
    const [member, me] = await Promise.all([bot.member(r.guild, r.session.userId), bot.botMember(r.guild)]);
    try {
      if (member === undefined) throw new UserFacingError('You are not a member of this server any more.');
      if (me === undefined) throw new UserFacingError('recap-bot is not a member of this server any more.');
      if (![form.get('source'), form.get('destination')].every((id) => id !== null && /^\d{15,22}$/.test(id))) throw new UserFacingError('Pick a source and a destination from the lists.');
      const { digest } = await createCheckedDigest(
        { db, guild: r.guild, member, bot: me, now: new Date(clock.now()), via: 'dashboard' },
        {
          sourceId: form.get('source') ?? '',
          destinationId: form.get('destination') ?? '',
          every: form.get('every') ?? '',
          at: form.get('at'),
          timezone: form.get('timezone'),
          cron: form.get('cron'),
          type: form.get('type'),
          perspective: form.get('perspective'),
          language: form.get('language'),
          skipIfQuiet: form.get('skip_if_quiet') === 'on',
        },
      );
      deps.logger.info({ digest: digest.id, source: digest.source_id, destination: digest.destination_id, cadence: digest.cadence, via: 'dashboard' }, 'digest created');
      return { redirect: `/guilds/${r.guild.id}/digests?done=digest-created` };
    } catch (error) {
      if (!(error instanceof UserFacingError)) throw error;
      // A refusal may name a member (who could see the destination): fetched so the page can say their name.
      const named = [...error.message.matchAll(/<@!?(\d{15,22})>/g)].map((m) => m[1] as string).slice(0, 5);
      await Promise.all(named.map((id) => bot.member(r.guild, id).catch(() => undefined)));
      const categories = viewableCategories(r.guild, bot.textChannels(r.guild, readable));
      return { refused: discordTextToPlain(error.message, r.guild, new Set([...readable, ...categories.map((c) => c.id)])) };
    }
  };

  return {
    'GET digests': {
      admin: true,
      tab: 'digests',
      async run(r, chrome) {
        return { page: digestsPage(chrome, r.guild.id, await digestsData(r, { notice: notice(r.query) })) };
      },
    },
    'POST digests': {
      admin: true,
      tab: 'digests',
      async run(r, chrome) {
        const form = r.form ?? new URLSearchParams();
        if (form.get('action') === 'create') {
          const created = await createFromForm(r, form);
          if ('redirect' in created) return created;
          return { page: digestsPage(chrome, r.guild.id, await digestsData(r, { draft: { values: form, error: created.refused } })) };
        }
        const digest = await findDigest(db, r.guild.id, form.get('digest') ?? '');
        const action = form.get('action');
        if (digest === undefined || (action !== 'pause' && action !== 'resume')) {
          return { page: digestsPage(chrome, r.guild.id, await digestsData(r, { error: 'There is no such digest in this server, or no such action. Nothing was changed.' })) };
        }
        const now = new Date(clock.now());
        if (action === 'pause') {
          await setPaused(db, digest.id, { paused: true, reason: `paused by ${r.session.userName} on the dashboard` }, now);
        } else {
          await setPaused(db, digest.id, { paused: false, nextRunAt: nextRunAfter(scheduleOf(digest), now) }, now);
        }
        await recordAudit(db, { guildId: r.guild.id, actorId: r.session.userId, action: `digest.${action}`, details: { digest: digest.id, via: 'dashboard' } });
        return { redirect: `/guilds/${r.guild.id}/digests?done=digest-${action}d` };
      },
    },
    'GET ': {
      admin: true,
      tab: 'overview',
      async run(r, chrome) {
        const now = clock.now();
        const since = new Date(now - GLANCE_DAYS * DAY_MS);
        const [status, summaries, spend] = await Promise.all([
          prompts.status(r.guild.id),
          recentSummaries(db, r.guild.id, since),
          db
            .selectFrom('llm_calls')
            .select((eb) => eb.fn.sum<string>('cost_usd').as('cost'))
            .where('guild_id', '=', r.guild.id)
            .where('created_at', '>=', since)
            .executeTakeFirst(),
        ]);
        return { page: overviewPage(chrome, r.guild.id, { status, summaries, spendUsd: Number(spend?.cost ?? 0), days: GLANCE_DAYS, notice: notice(r.query) }) };
      },
    },
    'POST refresh': {
      admin: true,
      tab: 'overview',
      async run(r) {
        await prompts.refresh(r.guild.id);
        return { redirect: `/guilds/${r.guild.id}?done=refreshed` };
      },
    },
    'GET test': {
      admin: true,
      tab: 'test',
      async run(r, chrome) {
        const channels = bot.textChannels(r.guild, await bot.readableChannels(r.guild, r.session.userId));
        const input: TesterInput = {
          channelId: r.query.get('channel') ?? channels[0]?.id ?? '',
          category: r.query.get('category') ?? '',
          type: r.query.get('type') ?? '',
          perspective: r.query.get('perspective') ?? '',
        };
        if (!r.query.has('channel')) return { page: testerPage(chrome, r.guild.id, { channels, input }) };
        const channel = channels.find((c) => c.id === input.channelId);
        const bad = (['category', 'type', 'perspective'] as const).find((k) => {
          const v = routeChoice(input[k]);
          return v !== undefined && !PROMPT_CATEGORY.test(v);
        });
        if (channel === undefined || bad !== undefined) {
          const error = channel === undefined ? 'Pick a channel you can read.' : `${bad} takes letters, digits, "-" and "_" only (for example brief or action_items).`;
          return { page: testerPage(chrome, r.guild.id, { channels, input, error }) };
        }
        const context = summaryContext(
          {
            guildId: r.guild.id,
            guildName: r.guild.name,
            channelId: channel.id,
            channelName: channel.name,
            category: input.category,
            type: input.type,
            perspective: input.perspective,
            userName: r.session.userName,
            locale: r.guild.preferredLocale,
          },
          clock.now(),
        );
        const resolved = await prompts.resolver.resolve(r.guild.id, context);
        return { page: testerPage(chrome, r.guild.id, { channels, input, resolved }) };
      },
    },
    'GET summaries': {
      admin: false,
      tab: 'summaries',
      async run(r, chrome) {
        // Visibility is decided now, by the bot's view of the member: the same rule as /summarize.
        const summarized = await summarizedChannels(db, r.guild.id, 100);
        const listed = new Set(r.guild.channels.cache.keys());
        const readable = await bot.readableChannels(r.guild, r.session.userId, summarized.filter((id) => !listed.has(id)));
        const channels = bot.textChannels(r.guild, readable);
        const channelId = r.query.get('channel') ?? '';
        const from = dateParam(r.query.get('from'));
        const to = dateParam(r.query.get('to'));
        const filter = { channelId, from: from === 'invalid' ? '' : from.text, to: to === 'invalid' ? '' : to.text };
        if (from === 'invalid' || to === 'invalid' || (channelId !== '' && !/^\d{15,22}$/.test(channelId))) {
          return { page: historyPage(chrome, r.guild.id, { channels, entries: [], filter, limit: HISTORY_LIMIT, error: 'Dates are YYYY-MM-DD and the channel one of the list.' }) };
        }
        const entries = await summaryHistory(db, r.guild.id, {
          readable,
          channelId: channelId === '' ? undefined : channelId,
          from: from.date,
          to: to.date === undefined ? undefined : new Date(to.date.getTime() + DAY_MS),
          limit: HISTORY_LIMIT,
        });
        return { page: historyPage(chrome, r.guild.id, { channels, entries, filter, limit: HISTORY_LIMIT }) };
      },
    },
    'GET usage': {
      admin: true,
      tab: 'usage',
      async run(r, chrome) {
        const [usage, settings] = await Promise.all([usageDays(db, r.guild.id, clock.now(), USAGE_DAYS), llm.settings.get(r.guild.id)]);
        return { page: usagePage(chrome, { usage, dailyBudgetUsd: settings.dailyBudgetUsd ?? null }) };
      },
    },
    'GET keys': {
      admin: true,
      tab: 'keys',
      async run(r, chrome) {
        return { page: keysPage(chrome, r.guild.id, await keysData(r.guild.id, { notice: notice(r.query) })) };
      },
    },
    'POST keys': {
      admin: true,
      tab: 'keys',
      async run(r, chrome) {
        const form = r.form ?? new URLSearchParams();
        const provider = form.get('provider') ?? '';
        const known = llm.enabledProviders().filter((name) => name !== 'local');
        if (!known.includes(provider)) return { page: keysPage(chrome, r.guild.id, await keysData(r.guild.id, { error: 'Pick one of the providers listed. Nothing was saved.' })) };
        try {
          if (form.get('action') === 'remove') {
            await llm.keys.removeGuildKey(r.guild.id, provider, actor(r));
            return { redirect: `/guilds/${r.guild.id}/keys?done=key-removed` };
          }
          await llm.keys.setGuildKey(r.guild.id, provider, form.get('key') ?? '', actor(r));
          deps.logger.info({ guildId: r.guild.id, provider }, 'server API key stored from the dashboard');
          return { redirect: `/guilds/${r.guild.id}/keys?done=key-saved` };
        } catch (error) {
          // GuildKeys' messages say what is wrong without repeating the key; a locked vault says so too.
          const message = error instanceof GuildKeyError ? error.message : error instanceof Error && /locked|RECAP_MASTER_KEYS/.test(error.message) ? 'Secret storage is off on this deployment (RECAP_MASTER_KEYS is not set)' : undefined;
          if (message === undefined) throw error;
          return { page: keysPage(chrome, r.guild.id, await keysData(r.guild.id, { error: `${message}. Nothing was saved.` })) };
        }
      },
    },
    'POST settings': {
      admin: true,
      tab: 'keys',
      async run(r, chrome) {
        const form = r.form ?? new URLSearchParams();
        const budgetText = (form.get('budget') ?? '').trim();
        const orderText = (form.get('order') ?? '').trim();
        const budget = budgetText === '' ? null : Number(budgetText);
        const order = orderText === '' ? null : orderText.split(/[\s,]+/).filter((n) => n !== '').map((n) => n.toLowerCase());
        if (budget !== null && !Number.isFinite(budget)) {
          return { page: keysPage(chrome, r.guild.id, await keysData(r.guild.id, { error: 'The daily budget must be a number of US dollars, or empty for no limit. Nothing was changed.' })) };
        }
        try {
          await llm.settings.update(r.guild.id, { dailyBudgetUsd: budget, providerOrder: order }, actor(r));
        } catch (error) {
          if (!(error instanceof GuildAiSettingsError)) throw error;
          return { page: keysPage(chrome, r.guild.id, await keysData(r.guild.id, { error: `${error.message}. Nothing was changed.` })) };
        }
        return { redirect: `/guilds/${r.guild.id}/keys?done=settings-saved` };
      },
    },
  };
}
