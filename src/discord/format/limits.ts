/**
 * Discord's hard limits on what a bot may send. A payload over any of them is
 * refused with 400 Invalid Form Body, so every reply is bounded against these
 * before it leaves. Lengths are UTF-16 code units, never more lenient than
 * Discord's own count.
 */
export const DiscordLimits = {
  content: 2_000,
  embeds: 10,
  embedTitle: 256,
  embedDescription: 4_096,
  embedFields: 25,
  fieldName: 256,
  fieldValue: 1_024,
  footerText: 2_048,
  authorName: 256,
  /** Sum of every embed's title, description, fields, footer and author in one message. */
  embedTotal: 6_000,
  autocompleteChoices: 25,
  choiceName: 100,
  choiceValue: 100,
  customId: 100,
  modalTitle: 45,
  buttonLabel: 80,
} as const;
