/**
 * Discord's permission arithmetic (https://discord.com/developers/docs/topics/permissions),
 * as pure functions over plain data so REST checks and interaction payloads agree.
 */
import { PermissionFlagsBits } from 'discord.js';

export type PermissionName = keyof typeof PermissionFlagsBits;
/** A bit string (`"1024"`), a bigint, or flag names (`['ViewChannel', 'SendMessages']`). */
export type PermissionInput = bigint | string | readonly PermissionName[];

export const Permission = PermissionFlagsBits;
export const ALL_PERMISSIONS: bigint = Object.values(PermissionFlagsBits).reduce((all, bit) => all | bit, 0n);

export function toPermissionBits(input: PermissionInput): bigint {
  if (typeof input === 'bigint') return input;
  if (typeof input === 'string') {
    if (!/^\d+$/.test(input)) throw new Error(`Permissions must be a decimal bit string, got ${JSON.stringify(input)}`);
    return BigInt(input);
  }
  let bits = 0n;
  for (const name of input) {
    const bit = PermissionFlagsBits[name];
    if (bit === undefined) throw new Error(`Unknown permission flag ${JSON.stringify(name)}`);
    bits |= bit;
  }
  return bits;
}

export interface Overwrite {
  /** Role id (the guild id for @everyone) or user id. */
  id: string;
  type: 'role' | 'member';
  allow: bigint;
  deny: bigint;
}

export interface PermissionSubject {
  guildId: string;
  ownerId: string;
  userId: string;
  /** Role ids of the member, without @everyone. */
  roleIds: readonly string[];
  rolePermissions: (roleId: string) => bigint | undefined;
}

/** Guild-wide permissions: owner and ADMINISTRATOR get everything; otherwise @everyone | roles. */
export function basePermissions(subject: PermissionSubject): bigint {
  if (subject.userId === subject.ownerId) return ALL_PERMISSIONS;
  let bits = subject.rolePermissions(subject.guildId) ?? 0n;
  for (const roleId of subject.roleIds) bits |= subject.rolePermissions(roleId) ?? 0n;
  return bits & PermissionFlagsBits.Administrator ? ALL_PERMISSIONS : bits;
}

/**
 * Channel permissions: @everyone overwrite, then all role overwrites together (denies before allows),
 * then the member's own overwrite. Implicit denials (no VIEW_CHANNEL ⇒ nothing) are left to the
 * callers that enforce access, as Discord reports raw overwrite results in interaction payloads.
 */
export function channelPermissions(subject: PermissionSubject, overwrites: readonly Overwrite[]): bigint {
  const base = basePermissions(subject);
  // Owners and administrators ignore overwrites (basePermissions gave them every bit).
  if (base & PermissionFlagsBits.Administrator) return ALL_PERMISSIONS;
  let bits = base;
  const everyone = overwrites.find((o) => o.type === 'role' && o.id === subject.guildId);
  if (everyone) bits = (bits & ~everyone.deny) | everyone.allow;
  let roleDeny = 0n;
  let roleAllow = 0n;
  for (const o of overwrites) {
    if (o.type === 'role' && o.id !== subject.guildId && subject.roleIds.includes(o.id)) {
      roleDeny |= o.deny;
      roleAllow |= o.allow;
    }
  }
  bits = (bits & ~roleDeny) | roleAllow;
  const own = overwrites.find((o) => o.type === 'member' && o.id === subject.userId);
  if (own) bits = (bits & ~own.deny) | own.allow;
  return bits;
}

export function hasPermission(bits: bigint, needed: bigint): boolean {
  return (bits & needed) === needed;
}
