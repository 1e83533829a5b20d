/**
 * Command names and descriptions in the languages Discord shows them in
 * (Discord's keys: de, fr, es-ES, pt-BR, ja). Slash command names follow
 * Discord's rule (lowercase, no spaces); context-menu names may hold spaces
 * and capitals; all at most 32 characters, descriptions at most 100.
 */
import type { LocalizationMap } from 'discord.js';

interface Localized {
  name: LocalizationMap;
  description?: LocalizationMap;
}

export const commandLocalizations = {
  summarize: {
    name: { de: 'zusammenfassen', fr: 'resumer', 'es-ES': 'resumir', 'pt-BR': 'resumir', ja: '要約' },
    description: {
      de: 'Einen Kanal, Thread oder Forumsbeitrag zusammenfassen',
      fr: 'Résumer un salon, un fil ou un post de forum',
      'es-ES': 'Resumir un canal, hilo o publicación del foro',
      'pt-BR': 'Resumir um canal, tópico ou post do fórum',
      ja: 'チャンネル、スレッド、フォーラム投稿を要約',
    },
  },
  ask: {
    name: { de: 'fragen', fr: 'demander', 'es-ES': 'preguntar', 'pt-BR': 'perguntar', ja: '質問' },
    description: {
      de: 'Den Bot fragen; das Gespräch geht in einem Thread weiter',
      fr: 'Poser une question au bot ; la conversation continue dans un fil',
      'es-ES': 'Pregunta al bot; la conversación sigue en un hilo',
      'pt-BR': 'Pergunte ao bot; a conversa continua em um tópico',
      ja: 'ボットに質問（会話はスレッドで続きます）',
    },
  },
  menus: {
    fromHere: {
      de: 'Ab hier zusammenfassen',
      fr: 'Résumer à partir d’ici',
      'es-ES': 'Resumir desde aquí',
      'pt-BR': 'Resumir a partir daqui',
      ja: 'ここから要約',
    },
    thread: {
      de: 'Diesen Thread zusammenfassen',
      fr: 'Résumer ce fil',
      'es-ES': 'Resumir este hilo',
      'pt-BR': 'Resumir este tópico',
      ja: 'このスレッドを要約',
    },
  },
} satisfies { summarize: Localized; ask: Localized; menus: Record<string, LocalizationMap> };
