/**
 * Moods: how someone feels, an emoji and a few words, shown on their card to their partner;
 * and when they last thought of me (a "thinking of you" nudge). The node checks a mood for
 * good (an emoji, at most 60 characters of words) and says what is wrong in words; these
 * helpers only shape what is sent and shown.
 */
import type { Mood } from '../lib/backend';
import { t, type MessageKey } from '../lib/i18n/index.svelte';
import { ago } from '../lib/time';

/** The node's limit on a mood's words, in characters (Unicode scalar values). */
export const MAX_MOOD_WORDS = 60;

/** A nudge shows on the card for a day. */
export const NUDGE_SHOWN_FOR_MS = 24 * 60 * 60_000;

function suggestion(emoji: string, key: MessageKey): { readonly emoji: string; readonly name: string } {
  return {
    emoji,
    // Read in the window's language each time it is shown.
    get name() {
      return t(key);
    },
  };
}

export const MOOD_SUGGESTIONS: readonly { readonly emoji: string; readonly name: string }[] = [
  suggestion('🥰', 'presence.moods.inLove'),
  suggestion('😊', 'presence.moods.happy'),
  suggestion('😴', 'presence.moods.sleepy'),
  suggestion('😔', 'presence.moods.down'),
  suggestion('🤒', 'presence.moods.unwell'),
  suggestion('🎉', 'presence.moods.celebrating'),
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
  return t('presence.thoughtOfYou', { when: ago(lastNudge, now) });
}
