/** Reactions summed per emoji, in the order each emoji first appeared. */
import type { PersonId, Reaction } from '../lib/backend';
import { t } from '../lib/i18n/index.svelte';

export interface ReactionSummary {
  emoji: string;
  count: number;
  mine: boolean;
  people: PersonId[];
}

export function summarize(reactions: readonly Reaction[], me: PersonId): ReactionSummary[] {
  const byEmoji = new Map<string, ReactionSummary>();
  const ordered = [...reactions].sort((a, b) => a.created_at - b.created_at);
  for (const r of ordered) {
    const s = byEmoji.get(r.emoji) ?? { emoji: r.emoji, count: 0, mine: false, people: [] };
    if (s.people.includes(r.user)) continue;
    s.count += 1;
    s.people.push(r.user);
    s.mine ||= r.user === me;
    byEmoji.set(r.emoji, s);
  }
  return [...byEmoji.values()];
}

/** "Ben and you reacted with 💛". */
export function describe(s: ReactionSummary, nameOf: (id: PersonId) => string): string {
  const names = s.people.map((p) => nameOf(p));
  const emoji = s.emoji;
  if (names.length <= 1) return t('chat.reactions.byOne', { name: names[0] ?? '', emoji });
  if (names.length === 2) return t('chat.reactions.byTwo', { first: names[0], second: names[1], emoji });
  return t('chat.reactions.byMany', { others: names.slice(0, -1).join(', '), last: names.at(-1), emoji });
}
