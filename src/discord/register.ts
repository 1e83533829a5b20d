import { REST, Routes } from 'discord.js';
import type { BotCommand } from './command.ts';

export interface RegistrationTarget {
  token: string;
  applicationId: string;
  /** A guild registers instantly (development); without one, commands are global. */
  guildId?: string;
  apiUrl?: string;
}

function restFor(target: RegistrationTarget): REST {
  return new REST(target.apiUrl === undefined ? {} : { api: target.apiUrl }).setToken(target.token);
}

function route(target: RegistrationTarget): `/${string}` {
  return target.guildId === undefined
    ? Routes.applicationCommands(target.applicationId)
    : Routes.applicationGuildCommands(target.applicationId, target.guildId);
}

/** Replaces the registered set with exactly these commands (Discord's bulk overwrite). */
export async function registerCommands(target: RegistrationTarget, commands: readonly BotCommand[]): Promise<number> {
  const body = commands.map((c) => c.data);
  await restFor(target).put(route(target), { body });
  return body.length;
}

export async function clearCommands(target: RegistrationTarget): Promise<void> {
  await restFor(target).put(route(target), { body: [] });
}

/** The application id behind a bot token (GET /applications/@me). */
export async function applicationIdFor(token: string, apiUrl?: string): Promise<string> {
  const app = (await new REST(apiUrl === undefined ? {} : { api: apiUrl }).setToken(token).get(Routes.currentApplication())) as {
    id: string;
  };
  return app.id;
}
