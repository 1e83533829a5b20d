/**
 * The `prompt.resolved` hook point, as a resolver around the real one: every
 * prompt the summarizer and chat get has been shown to the plugins, with
 * what they appended added after a blank line.
 */
import type { PromptResolver } from '../prompts/resolver.ts';
import type { PluginHooks } from './plugin-hooks.ts';

export function withPromptHooks(resolver: PromptResolver, hooks: PluginHooks): PromptResolver {
  return {
    async resolve(guildId, context) {
      const resolved = await resolver.resolve(guildId, context);
      const { append } = await hooks.run('prompt.resolved', {
        guildId: guildId ?? null,
        category: context.category ?? null,
        type: context.type ?? null,
        perspective: context.perspective ?? null,
        level: resolved.level,
        repo: resolved.repo,
        ref: resolved.ref,
        commit: resolved.commit,
        path: resolved.path,
        content: resolved.content,
      });
      if (append.length === 0) return resolved;
      return { ...resolved, content: [resolved.content, ...append].join('\n\n') };
    },
  };
}
