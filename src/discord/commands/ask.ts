/**
 * `/ask question text:` asks the bot, which answers from the recent history
 * of the channel (and of channels the question names, `#channel`, that the
 * member and everyone in the answer's thread can read), citing the messages
 * it draws on. In a thread the answer is posted there
 * (continuing that thread's conversation); in a channel the bot starts a
 * thread for it, where members carry on by mentioning the bot or with /ask.
 * `/ask reset` makes the bot forget the current thread's conversation.
 *
 * The member's own reply is ephemeral ("working…", then a link to the
 * answer, or what went wrong); the question and answer are thread messages.
 */
import { InteractionContextType, SlashCommandBuilder, type ChatInputCommandInteraction, type ThreadChannel } from 'discord.js';
import type { CommandContext, SlashCommand } from '../command.ts';
import { UserFacingError } from '../errors.ts';
import { deferOnce, respond } from '../respond.ts';
import { runSubcommand } from '../shared/subcommands.ts';
import {
  THREAD_ARCHIVE,
  answerParts,
  askInThread,
  canHoldThreads,
  missingChatPermissions,
  questionLead,
  sendParts,
  threadNameFor,
} from '../chat/conversation.ts';
import { commandLocalizations } from '../shared/command-localizations.ts';

const ASK_COMMAND = 'ask';
const MAX_QUESTION_CHARS = 4_000;

function askDefinition(): SlashCommandBuilder {
  const builder = new SlashCommandBuilder().setName(ASK_COMMAND).setDescription('Ask the bot; the conversation continues in a thread').setContexts(InteractionContextType.Guild);
  builder.setNameLocalizations(commandLocalizations.ask.name).setDescriptionLocalizations(commandLocalizations.ask.description);
  builder.addSubcommand((s) =>
    s
      .setName('question')
      .setDescription('Ask a question (in a thread: continue its conversation)')
      .addStringOption((o) => o.setName('text').setDescription('Your question').setRequired(true).setMaxLength(MAX_QUESTION_CHARS)),
  );
  builder.addSubcommand((s) => s.setName('reset').setDescription("Make the bot forget this thread's conversation"));
  return builder;
}

export function createAskCommand(): SlashCommand {
  const subcommands = { question: ask, reset };
  return { data: askDefinition().toJSON(), execute: (interaction, ctx) => runSubcommand(ASK_COMMAND, subcommands, interaction, ctx) };
}

export const askCommand: SlashCommand = createAskCommand();

async function ask(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  if (!interaction.inCachedGuild() || interaction.channel === null) throw new UserFacingError('/ask works in server channels only.');
  const channel = interaction.channel;
  const text = interaction.options.getString('text', true).trim();
  if (text === '') throw new UserFacingError('Write a question after `text:`.');
  const inThread = channel.isThread();
  if (!inThread && !canHoldThreads(channel)) throw new UserFacingError('I answer in threads: use /ask in a text channel or a thread.');
  const missing = missingChatPermissions(channel, inThread);
  if (missing.length > 0) throw new UserFacingError(`I can't answer here: I need ${missing.join(', ')}.`);

  await deferOnce(interaction, true);
  const userName = interaction.member.displayName;
  const lead = questionLead(userName, text);
  let thread: ThreadChannel;
  let leadInAnswer: string | undefined;
  if (inThread) {
    thread = channel;
    leadInAnswer = lead;
  } else {
    // The question opens the thread, so it is never empty, even when the answer fails.
    thread = await channel.threads.create({ name: threadNameFor(text), autoArchiveDuration: THREAD_ARCHIVE });
    await thread.send({ content: lead, allowedMentions: { parse: [] } });
  }
  await thread.sendTyping().catch(() => undefined);
  const { answer, history } = await askInThread(ctx, {
    thread,
    userId: interaction.user.id,
    userName,
    text,
    locale: interaction.locale,
    member: interaction.member,
    askedIn: channel,
    botId: interaction.client.user.id,
    memberNames: ctx.memory.memberNames,
  });
  const sent = await sendParts(thread, answerParts(answer, leadInAnswer, history));
  await respond(interaction, { content: `Answered in <#${thread.id}>: ${sent[0]?.url ?? ''}`.trim() });
  ctx.logger.info(
    { threadId: thread.id, provider: answer.provider, model: answer.model, created: !inThread, searched: history.histories.length, skipped: history.skipped.length, cited: answer.citations.length },
    'answered /ask',
  );
}

async function reset(interaction: ChatInputCommandInteraction, ctx: CommandContext): Promise<void> {
  if (!interaction.inCachedGuild() || interaction.channel === null) throw new UserFacingError('/ask reset works in server threads only.');
  if (!interaction.channel.isThread()) {
    throw new UserFacingError("Conversations with the bot live in threads: run `/ask reset` inside the thread whose conversation you want cleared.");
  }
  const forgot = await ctx.services.chat.reset(interaction.guildId, interaction.channel.id);
  await respond(interaction, {
    content: forgot ? 'Done: I forgot this thread’s conversation. The next question starts fresh.' : 'There was nothing to forget: I have no conversation stored for this thread.',
    ephemeral: true,
  });
  ctx.logger.info({ threadId: interaction.channel.id, forgot }, 'chat memory reset');
}
