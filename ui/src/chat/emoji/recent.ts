/** The emoji picked last from a picker, newest first, kept on this computer (localStorage). */

export const MAX_RECENT = 24;
const KEY = 'duet.recentEmoji';

export function recentEmoji(): string[] {
  try {
    const kept: unknown = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    if (!Array.isArray(kept)) return [];
    const emoji = kept.filter((e): e is string => typeof e === 'string' && e !== '' && e.length <= 40);
    return [...new Set(emoji)].slice(0, MAX_RECENT);
  } catch {
    return [];
  }
}

export function rememberEmoji(emoji: string): void {
  const next = [emoji, ...recentEmoji().filter((e) => e !== emoji)].slice(0, MAX_RECENT);
  try {
    localStorage.setItem(KEY, JSON.stringify(next));
  } catch {
    // Storage full or refused: the picker simply does not remember.
  }
}
