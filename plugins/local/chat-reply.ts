/** What the offline provider says when asked to chat: the truth, and how to fix it. */
export const CHAT_REPLY = [
  "I can't chat right now: no language model is configured for this bot, so it is running on its offline extractive summarizer only.",
  'Summaries still work: they quote the most representative messages, with links back to them.',
  '',
  'To enable chat and written summaries, the bot operator can:',
  '- set `ANTHROPIC_API_KEY` to use Claude;',
  '- set `OPENAI_API_KEY` for OpenAI, or `OPENAI_BASE_URL` (plus `OPENAI_API_KEY` when the server needs one) for an OpenAI-compatible server such as Ollama or vLLM;',
  '- or point `PLUGINS_CONFIG` at a plugins config file (see `plugins.example.yaml`) to choose providers and models.',
  'Then restart the bot or reload its plugins.',
].join('\n');
