/** The small emoji sets Duet offers: avatars at onboarding, and quick reactions. */

export const AVATAR_EMOJI: readonly { emoji: string; name: string }[] = [
  { emoji: '💛', name: 'yellow heart' },
  { emoji: '🌻', name: 'sunflower' },
  { emoji: '🐻', name: 'bear' },
  { emoji: '🦊', name: 'fox' },
  { emoji: '🌙', name: 'moon' },
  { emoji: '🍓', name: 'strawberry' },
  { emoji: '🐱', name: 'cat' },
  { emoji: '🌊', name: 'wave' },
  { emoji: '🌷', name: 'tulip' },
  { emoji: '☕', name: 'coffee' },
  { emoji: '🐼', name: 'panda' },
  { emoji: '🍀', name: 'clover' },
];

export const REACTION_EMOJI: readonly { emoji: string; name: string }[] = [
  { emoji: '💛', name: 'heart' },
  { emoji: '😂', name: 'laughing' },
  { emoji: '😮', name: 'surprised' },
  { emoji: '😢', name: 'sad' },
  { emoji: '👍', name: 'thumbs up' },
  { emoji: '🎉', name: 'party' },
  { emoji: '🙏', name: 'thank you' },
  { emoji: '🔥', name: 'fire' },
];

/** The node's bounds for one reaction (duet-model `MAX_EMOJI_CHARS`, `MAX_EMOJI_BYTES`). */
export const MAX_EMOJI_CHARS = 10;
export const MAX_EMOJI_BYTES = 40;

/**
 * Whether the node takes this as a reaction (or a mood), as duet-model `validate_emoji` reads
 * it: trimmed, at most 10 characters and 40 bytes, and no spaces, control characters, ASCII
 * letters or digits (so the keycaps 0️⃣–9️⃣ do not qualify).
 */
export function fitsReaction(emoji: string): boolean {
  const trimmed = emoji.trim();
  if (trimmed === '' || [...trimmed].length > MAX_EMOJI_CHARS) return false;
  if (new TextEncoder().encode(trimmed).length > MAX_EMOJI_BYTES) return false;
  return !/[\p{White_Space}\p{Cc}A-Za-z0-9]/u.test(trimmed);
}
