/**
 * The small emoji sets Duet offers: avatars at onboarding, and quick reactions. Their names
 * (for labels and tooltips) follow the window's language.
 */

import { t, type MessageKey } from './i18n/index.svelte';

/** An emoji and its name, read in the window's language each time (`name` is a getter). */
export interface NamedEmoji {
  readonly emoji: string;
  readonly name: string;
}

function named(emoji: string, key: MessageKey): NamedEmoji {
  return {
    emoji,
    get name() {
      return t(key);
    },
  };
}

export const AVATAR_EMOJI: readonly NamedEmoji[] = [
  named('💛', 'lib.emoji.avatars.yellowHeart'),
  named('🌻', 'lib.emoji.avatars.sunflower'),
  named('🐻', 'lib.emoji.avatars.bear'),
  named('🦊', 'lib.emoji.avatars.fox'),
  named('🌙', 'lib.emoji.avatars.moon'),
  named('🍓', 'lib.emoji.avatars.strawberry'),
  named('🐱', 'lib.emoji.avatars.cat'),
  named('🌊', 'lib.emoji.avatars.wave'),
  named('🌷', 'lib.emoji.avatars.tulip'),
  named('☕', 'lib.emoji.avatars.coffee'),
  named('🐼', 'lib.emoji.avatars.panda'),
  named('🍀', 'lib.emoji.avatars.clover'),
];

export const REACTION_EMOJI: readonly NamedEmoji[] = [
  named('💛', 'lib.emoji.reactions.heart'),
  named('😂', 'lib.emoji.reactions.laughing'),
  named('😮', 'lib.emoji.reactions.surprised'),
  named('😢', 'lib.emoji.reactions.sad'),
  named('👍', 'lib.emoji.reactions.thumbsUp'),
  named('🎉', 'lib.emoji.reactions.party'),
  named('🙏', 'lib.emoji.reactions.thankYou'),
  named('🔥', 'lib.emoji.reactions.fire'),
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
