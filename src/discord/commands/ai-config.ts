import type { SlashCommandBuilder, SlashCommandStringOption } from 'discord.js';
import { DEFAULT_PLUGINS_DIR } from '../../llm/service.ts';
import { autocompleteAiConfig } from '../ai-config/autocomplete.ts';
import { COMMAND_NAME, parseKeyModalId } from '../ai-config/custom-ids.ts';
import { keyProviders } from '../ai-config/key-providers.ts';
import { onKeySubmit, openKeyModal, runKeyRemove, type KeyProviderList } from '../ai-config/keys.ts';
import {
  runBudget,
  runBudgetClear,
  runOperatorKey,
  runPii,
  runProviders,
  runProvidersReset,
} from '../ai-config/settings.ts';
import { runStatus } from '../ai-config/status.ts';
import { runUsage } from '../ai-config/usage.ts';
import type { CommandContext, ComponentInteraction, SlashCommand } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { adminCommandBuilder } from '../shared/access.ts';
import { runSubcommand, type SubcommandHandler } from '../shared/subcommands.ts';

/** The highest daily budget the settings store accepts. */
const MAX_BUDGET_USD = 1_000_000;

/** The registered shape of /ai-config (Manage Server by default, servers only). */
function aiConfigDefinition(): SlashCommandBuilder {
  const builder = adminCommandBuilder(COMMAND_NAME, "Manage this server's language-model providers, API keys, budget and usage");
  const providerOption = (description: string) => (o: SlashCommandStringOption) =>
    o.setName('provider').setDescription(description).setRequired(true).setAutocomplete(true).setMaxLength(63);
  builder.addSubcommand((s) =>
    s
      .setName('key-set')
      .setDescription("Store this server's own API key for a provider (typed in a private form)")
      .addStringOption(providerOption('Provider the key is for')),
  );
  builder.addSubcommand((s) =>
    s.setName('key-remove').setDescription("Delete this server's API key for a provider").addStringOption(providerOption('Provider whose key to delete')),
  );
  builder.addSubcommand((s) =>
    s
      .setName('providers')
      .setDescription("Which providers this server's calls may use, in order")
      .addStringOption((o) =>
        o.setName('order').setDescription('Provider names separated by commas, e.g. anthropic,local').setRequired(true).setAutocomplete(true).setMaxLength(300),
      ),
  );
  builder.addSubcommand((s) => s.setName('providers-reset').setDescription("Use the operator's provider order again"));
  builder.addSubcommand((s) =>
    s
      .setName('operator-key')
      .setDescription("Whether the operator's API keys may serve this server where it has none of its own")
      .addBooleanOption((o) => o.setName('allowed').setDescription("Allow the operator's keys").setRequired(true)),
  );
  builder.addSubcommand((s) =>
    s
      .setName('pii')
      .setDescription('Redact e-mail addresses, phone numbers, IPs and credentials before messages go to a provider')
      .addBooleanOption((o) => o.setName('enabled').setDescription('Redaction on (recommended) or off').setRequired(true)),
  );
  builder.addSubcommand((s) =>
    s
      .setName('budget')
      .setDescription("Daily limit in USD for calls paid with the operator's key (0 switches calls off)")
      .addNumberOption((o) => o.setName('usd').setDescription('US dollars per UTC day, 0 or more').setRequired(true).setMinValue(0).setMaxValue(MAX_BUDGET_USD)),
  );
  builder.addSubcommand((s) => s.setName('budget-clear').setDescription('Remove the daily budget limit'));
  builder.addSubcommand((s) => s.setName('usage').setDescription('Requests, tokens and cost today and over the last 30 days'));
  builder.addSubcommand((s) => s.setName('status').setDescription("This server's AI settings and which API keys it stored"));
  return builder;
}

export interface AiConfigCommandOptions {
  /** Where the provider plugins' manifests are (default: the repository's plugins folder, as the LLM service uses). */
  pluginsDir?: string;
}

/** `/ai-config`: every answer is ephemeral; every change is audited by the stores with the member as actor. */
export function createAiConfigCommand(options: AiConfigCommandOptions = {}): SlashCommand {
  const pluginsDir = options.pluginsDir ?? DEFAULT_PLUGINS_DIR;
  const keyProviderList = (ctx: CommandContext): KeyProviderList => () => keyProviders(ctx.services.llm, pluginsDir);

  const subcommands: Readonly<Record<string, SubcommandHandler>> = {
    'key-set': (interaction, ctx) => openKeyModal(interaction, ctx, keyProviderList(ctx)),
    'key-remove': runKeyRemove,
    providers: runProviders,
    'providers-reset': runProvidersReset,
    'operator-key': runOperatorKey,
    pii: runPii,
    budget: runBudget,
    'budget-clear': runBudgetClear,
    usage: runUsage,
    status: (interaction, ctx) => runStatus(interaction, ctx, keyProviderList(ctx)),
  };

  const handleComponent = async (interaction: ComponentInteraction, ctx: CommandContext): Promise<void> => {
    if (interaction.isModalSubmit() && parseKeyModalId(interaction.customId) !== undefined) return onKeySubmit(interaction, ctx);
    throw new UserFacingError('This form or button is not known to this version of the bot.');
  };

  return {
    data: aiConfigDefinition().toJSON(),
    execute: (interaction, ctx) => runSubcommand(COMMAND_NAME, subcommands, interaction, ctx),
    autocomplete: (interaction, ctx) => autocompleteAiConfig(interaction, ctx, keyProviderList(ctx)),
    handleComponent,
  };
}

export const aiConfigCommand: SlashCommand = createAiConfigCommand();
