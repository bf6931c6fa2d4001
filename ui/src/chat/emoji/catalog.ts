/**
 * Every emoji Duet offers, read from `emojibase-data` (English names, emojibase shortcodes,
 * CLDR keywords). Imported only by `loadCatalog` (`search.ts`), so it is a chunk of its own,
 * bundled: nothing is fetched. One entry per emoji in its default skin tone; the hair and skin
 * tone parts and the lone regional letters are left out, and so is anything newer than Emoji
 * 15.0, which the colour emoji font of Debian 12 (Noto Color Emoji 2.042) cannot draw, nor
 * perhaps my partner's computer. Nothing here imports the rest of the app (it would become a
 * shared chunk loaded with the window).
 */
import data from 'emojibase-data/en/compact.json';
import shortcodeData from 'emojibase-data/en/shortcodes/emojibase.json';
import versions from 'emojibase-data/versions/emoji.json';

/** The newest Emoji version offered. */
export const NEWEST_EMOJI_VERSION = 15.0;

export interface CatalogEmoji {
  emoji: string;
  name: string;
  group: number;
  order: number;
  shortcodes: string[];
  emoticons: string[];
  tags: string[];
}

/**
 * An emoji as keyboards and other pickers write it: emojibase adds the emoji presentation
 * selector (U+FE0F) to 152 emoji that show as emoji without it (👍️ for 👍); kept, a reaction
 * picked here would count apart from the same one picked in the quick row.
 */
export function qualified(emoji: string): string {
  return emoji.replace(/(\p{Emoji_Presentation})\uFE0F/gu, '$1');
}

/** The emoji of these groups (emojibase's numbers), in display order. */
export function readCatalog(groups: ReadonlySet<number>): CatalogEmoji[] {
  const tooNew = new Set(
    Object.entries(versions)
      .filter(([version]) => Number.parseFloat(version) > NEWEST_EMOJI_VERSION)
      .flatMap(([, hexcodes]) => hexcodes),
  );
  const out: CatalogEmoji[] = [];
  for (const e of data) {
    if (e.group === undefined || !groups.has(e.group) || tooNew.has(e.hexcode)) continue;
    const codes = shortcodeData[e.hexcode];
    out.push({
      emoji: qualified(e.unicode),
      name: e.label,
      group: e.group,
      order: e.order ?? out.length,
      shortcodes: codes === undefined ? [] : typeof codes === 'string' ? [codes] : codes,
      emoticons: e.emoticon === undefined ? [] : typeof e.emoticon === 'string' ? [e.emoticon] : e.emoticon,
      tags: e.tags ?? [],
    });
  }
  return out.sort((a, b) => a.order - b.order);
}
