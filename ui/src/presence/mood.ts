/**
 * Moods: how someone feels, an emoji and a few words, shown on their card to their partner;
 * and when they last thought of me (a "thinking of you" nudge). The node checks a mood for
 * good (an emoji, at most 60 characters of words) and says what is wrong in words; these
 * helpers only shape what is sent and shown.
 */
import type { Mood } from '../lib/backend';
import { ago } from '../lib/time';

/** The node's limit on a mood's words, in characters (Unicode scalar values). */
export const MAX_MOOD_WORDS = 60;

/** A nudge shows on the card for a day. */
export const NUDGE_SHOWN_FOR_MS = 24 * 60 * 60_000;

export const MOOD_SUGGESTIONS: readonly { emoji: string; name: string }[] = [
  { emoji: '🥰', name: 'in love' },
  { emoji: '😊', name: 'happy' },
  { emoji: '😴', name: 'sleepy' },
  { emoji: '😔', name: 'down' },
  { emoji: '🤒', name: 'unwell' },
  { emoji: '🎉', name: 'celebrating' },
];

/** Characters the node counts in a mood's words. */
export function moodWordsLength(words: string): number {
  return Array.from(words.trim()).length;
}

/** The mood to send for what was typed: `null` (clear) without an emoji; blank words → `null`. */
export function moodFrom(emoji: string, words: string): Mood | null {
  const e = emoji.trim();
  if (!e) return null;
  const w = words.trim();
  return { emoji: e, words: w ? w : null };
}

/** How a mood reads, for a label: "😴 sleepy after the night shift", or just "😴". */
export function moodText(mood: Mood): string {
  return mood.words ? `${mood.emoji} ${mood.words}` : mood.emoji;
}

/** "thought of you 5 min ago", while their last nudge is less than a day old. */
export function thoughtOfYou(lastNudge: number | null | undefined, now: number): string | null {
  if (lastNudge === null || lastNudge === undefined) return null;
  if (now - lastNudge > NUDGE_SHOWN_FOR_MS) return null;
  return `thought of you ${ago(lastNudge, now)}`;
}
