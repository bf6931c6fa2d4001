/**
 * The fake node's search (see fakeBackend.ts), answered as the node does
 * (`crates/duet-store/src/search.rs`): the messages holding every word (folded: accents and
 * case aside, whole words), deleted ones left out; the query as typed first, then the words in
 * order, then the rest, newest first within each; in one conversation or all, before a time;
 * at most `limit` (≤ 200). Longer than 500 characters: refused in words.
 */
import type { Message, Target } from '../lib/backend';
import { textWords as words } from '../search/words';

export const MAX_SEARCH_RESULTS = 200;
export const MAX_SEARCH_CHARS = 500;

function score(text: string, query: string, wanted: string[]): number | null {
  const found = words(text);
  if (!wanted.every((w) => found.includes(w))) return null;
  if (text.toLowerCase().includes(query.trim().toLowerCase())) return 2;
  const inOrder = found.some((_, i) => wanted.every((w, j) => found[i + j] === w));
  return inOrder ? 1 : 0;
}

/** `search(query, target, before, limit)` over `messages`; `null` when the query is too long. */
export function searchMessages(
  messages: Iterable<Message>,
  query: string,
  target: Target | null,
  before: number | null,
  limit: number,
): Message[] | null {
  if ([...query].length > MAX_SEARCH_CHARS) return null;
  const wanted = words(query);
  if (wanted.length === 0) return [];
  const inTarget = (m: Message) =>
    target === null || (target === 'direct' ? m.channel === null : 'channel' in target && m.channel === target.channel);
  return [...messages]
    .filter((m) => !m.deleted && inTarget(m) && (before === null || m.created_at < before))
    .map((m) => ({ m, s: score(m.content, query, wanted) }))
    .filter((x): x is { m: Message; s: number } => x.s !== null)
    .sort((a, b) => b.s - a.s || (a.m.id < b.m.id ? 1 : a.m.id > b.m.id ? -1 : 0))
    .slice(0, Math.min(limit, MAX_SEARCH_RESULTS))
    .map((x) => x.m);
}
