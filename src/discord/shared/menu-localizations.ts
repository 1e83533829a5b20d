/**
 * The context-menu commands' names in the languages Discord shows them in
 * (Discord keys: de, fr, es-ES, pt-BR, ja). Context-menu names may hold
 * spaces and capitals, up to 32 characters.
 */
import type { LocalizationMap } from 'discord.js';

export const menuLocalizations = {
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
} satisfies Record<string, LocalizationMap>;
