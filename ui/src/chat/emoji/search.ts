/**
 * The emoji catalog's shape, its groups, and search over it. The catalog itself (names,
 * shortcodes and keywords of every emoji, from `emojibase-data`) is `catalog.ts`, loaded the
 * first time a picker opens (`loadCatalog`), so the window's first paint does not carry it.
 */
import { t } from '../../lib/i18n/index.svelte';
import type { emoji as english } from '../../lib/i18n/en/emoji';
import type { CatalogEmoji } from './catalog';

export interface EmojiEntry {
  emoji: string;
  /** CLDR's name: "face with tears of joy". */
  name: string;
  group: number;
  order: number;
  /** Without colons: "joy", "lmao", "tears_of_joy". */
  shortcodes: readonly string[];
  /** As typed: ":')". */
  emoticons: readonly string[];
  /** The name folded (see `fold`), and its words. */
  key: string;
  nameWords: readonly string[];
  /** The folded words of the shortcodes and keywords. */
  words: readonly string[];
}

export interface EmojiCatalog {
  /** In display order; one per emoji, default skin tone. */
  entries: readonly EmojiEntry[];
  byEmoji: ReadonlyMap<string, EmojiEntry>;
}

/** A group's name in the catalog (`emoji.groups`). */
export type GroupKey = keyof typeof english.groups;

/**
 * The groups shown as tabs (emojibase's numbers; 2, the skin tone and hair parts, is left out).
 * Their names are `groupLabel`'s, in the window's language.
 */
export const GROUPS: readonly { id: number; key: GroupKey; icon: string }[] = [
  { id: 0, key: 'smileys', icon: '😀' },
  { id: 1, key: 'people', icon: '👋' },
  { id: 3, key: 'animals', icon: '🐻' },
  { id: 4, key: 'food', icon: '🍓' },
  { id: 5, key: 'travel', icon: '✈️' },
  { id: 6, key: 'activities', icon: '⚽' },
  { id: 7, key: 'objects', icon: '💡' },
  { id: 8, key: 'symbols', icon: '💕' },
  { id: 9, key: 'flags', icon: '🏳️' },
];

/** A group's name, as its tab and its heading say it: "Smileys & emotion". */
export function groupLabel(group: { key: GroupKey }): string {
  return t(`emoji.groups.${group.key}`);
}

/** At most this many results for a search. */
export const SEARCH_LIMIT = 120;

let loading: Promise<EmojiCatalog> | null = null;

/** The catalog, imported once (a chunk of its own); a failed import is tried again next time. */
export function loadCatalog(): Promise<EmojiCatalog> {
  loading ??= import('./catalog').then(
    (m) => indexCatalog(m.readCatalog(new Set(GROUPS.map((g) => g.id)))),
    (error: unknown) => {
      loading = null;
      throw error;
    },
  );
  return loading;
}

/** The catalog made ready for search. */
export function indexCatalog(emoji: readonly CatalogEmoji[]): EmojiCatalog {
  const entries = emoji.map((e): EmojiEntry => {
    const key = fold(e.name);
    return {
      emoji: e.emoji,
      name: e.name,
      group: e.group,
      order: e.order,
      shortcodes: e.shortcodes,
      emoticons: e.emoticons,
      key,
      nameWords: wordsOf(key),
      words: [...e.shortcodes, ...e.tags].flatMap((w) => wordsOf(fold(w))),
    };
  });
  return { entries, byEmoji: new Map(entries.map((e) => [e.emoji, e])) };
}

/** Lower case, accents and other marks dropped, curly apostrophes straight: "Côte d’Ivoire" → "cote d'ivoire". */
export function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/[‘’]/g, "'");
}

/** The words of a folded text: letters and digits ("+1" keeps its plus). */
export function wordsOf(folded: string): string[] {
  return folded.split(/[^\p{L}\p{N}+]+/u).filter((w) => w !== '');
}

/**
 * The entries that match `query`, best first: a shortcode, emoticon or name exactly; then every
 * word of the query a word of the name ("joy": cat with tears of joy); names starting with it
 * (joystick); words of the name starting with its words; then the same with the shortcodes and
 * keywords. Ties go to the recently used, then to the usual order. Case and accents do not
 * matter, nor colons around a shortcode (":joy:").
 */
export function searchEmoji(
  entries: readonly EmojiEntry[],
  query: string,
  { recent = [], accept = () => true, limit = SEARCH_LIMIT }: {
    recent?: readonly string[];
    accept?: (emoji: string) => boolean;
    limit?: number;
  } = {},
): EmojiEntry[] {
  const raw = query.trim();
  const folded = fold(raw).replace(/^:+|:+$/g, '').trim();
  const words = wordsOf(folded);
  if (raw === '') return [];
  const code = folded.replace(/\s+/g, '_');
  const scored: { entry: EmojiEntry; score: number }[] = [];
  for (const entry of entries) {
    if (!accept(entry.emoji)) continue;
    const score = scoreOf(entry, raw, folded, code, words);
    if (score !== null) scored.push({ entry, score });
  }
  const rank = (e: EmojiEntry) => {
    const i = recent.indexOf(e.emoji);
    return i < 0 ? recent.length : i;
  };
  scored.sort((a, b) => a.score - b.score || rank(a.entry) - rank(b.entry) || a.entry.order - b.entry.order);
  return scored.slice(0, limit).map((s) => s.entry);
}

function scoreOf(entry: EmojiEntry, raw: string, folded: string, code: string, words: readonly string[]): number | null {
  if (entry.key === folded || entry.shortcodes.includes(code) || entry.emoticons.includes(raw)) return 0;
  if (words.length === 0) return null;
  const starts = (list: readonly string[], w: string) => list.some((x) => x.startsWith(w));
  const whole = (w: string) => entry.nameWords.includes(w) || entry.words.includes(w);
  const inName = words.every((w) => starts(entry.nameWords, w));
  if (inName && words.every(whole)) return 1;
  if (entry.key.startsWith(folded)) return 2;
  if (inName) return 3;
  if (words.every(whole)) return 4;
  if (words.every((w) => starts(entry.nameWords, w) || starts(entry.words, w))) return 5;
  return null;
}
