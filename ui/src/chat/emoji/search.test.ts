import versions from 'emojibase-data/versions/emoji.json';
import { beforeEach, describe, expect, it } from 'vitest';

import { REACTION_EMOJI, fitsReaction } from '../../lib/emoji';
import { COLUMNS, moveInGrid } from './grid';
import { MAX_RECENT, recentEmoji, rememberEmoji } from './recent';
import { GROUPS, SEARCH_LIMIT, fold, indexCatalog, loadCatalog, searchEmoji } from './search';

const names = (list: { emoji: string }[]) => list.map((e) => e.emoji);

describe('the emoji catalog', () => {
  it('holds every emoji once, in its groups, default skin tone, nothing newer than Emoji 15.0', async () => {
    const { entries, byEmoji } = await loadCatalog();
    expect(entries.length).toBeGreaterThan(1800);
    expect(byEmoji.size).toBe(entries.length);
    const groups = new Set(GROUPS.map((g) => g.id));
    expect(entries.every((e) => groups.has(e.group))).toBe(true);
    expect(byEmoji.has('👍')).toBe(true);
    expect(byEmoji.has('👍🏽')).toBe(false); // skin tones: the default only
    expect(byEmoji.has('🏻')).toBe(false); // nor the parts
    const newer = new Set(
      Object.entries(versions)
        .filter(([v]) => Number.parseFloat(v) > 15)
        .flatMap(([, codes]) => codes),
    );
    const hex = (e: string) => [...e].map((c) => c.codePointAt(0)!.toString(16).toUpperCase()).filter((h) => h !== 'FE0F');
    expect(entries.filter((e) => newer.has(hex(e.emoji).join('-')))).toEqual([]);
    for (const late of ['🐦‍🔥', '🍋‍🟩', '🫩', '🙂‍↕️']) expect(byEmoji.has(late), late).toBe(false);
    // Written as keyboards write them: the quick reactions are the same strings.
    for (const { emoji } of REACTION_EMOJI) expect(byEmoji.has(emoji), emoji).toBe(true);
    expect(byEmoji.has('👍️')).toBe(false); // 👍 and U+FE0F
    expect(byEmoji.has('❤️')).toBe(true); // U+2764 needs it
  });

  it('offers as reactions only what the node takes (at most 10 characters and 40 bytes, no letters or digits)', async () => {
    const { entries } = await loadCatalog();
    const refused = entries.filter((e) => !fitsReaction(e.emoji)).map((e) => e.emoji);
    expect(refused).toEqual(['0️⃣', '1️⃣', '2️⃣', '3️⃣', '4️⃣', '5️⃣', '6️⃣', '7️⃣', '8️⃣', '9️⃣']);
    for (const { emoji } of entries.filter((e) => fitsReaction(e.emoji))) {
      expect(new TextEncoder().encode(emoji).length).toBeLessThanOrEqual(40);
      expect([...emoji].length).toBeLessThanOrEqual(10);
    }
    expect(fitsReaction('👩‍❤️‍💋‍👨')).toBe(true);
    expect(fitsReaction('🏴󠁧󠁢󠁳󠁣󠁴󠁿')).toBe(true);
    expect(fitsReaction('💛'.repeat(11))).toBe(false);
    expect(fitsReaction('👨‍👩‍👧‍👦'.repeat(2))).toBe(false); // 50 bytes
    expect(fitsReaction('a')).toBe(false);
    expect(fitsReaction('💛 💛')).toBe(false);
    expect(fitsReaction('')).toBe(false);
  });
});

describe('emoji search', () => {
  it('narrows by name, shortcode and keyword, best first', async () => {
    const { entries } = await loadCatalog();
    expect(names(searchEmoji(entries, 'joy')).slice(0, 3)).toEqual(['😂', '😹', '🕹️']);
    expect(names(searchEmoji(entries, ':tada:'))[0]).toBe('🎉');
    expect(names(searchEmoji(entries, 'thumbs up'))[0]).toBe('👍');
    expect(names(searchEmoji(entries, '+1'))[0]).toBe('👍');
    expect(names(searchEmoji(entries, 'lol'))).toContain('😂'); // a keyword
    expect(names(searchEmoji(entries, ":')"))[0]).toBe('😂'); // an emoticon
    const hearts = searchEmoji(entries, 'heart');
    expect(hearts.length).toBeGreaterThan(10);
    expect(hearts.length).toBeLessThanOrEqual(SEARCH_LIMIT);
    const fewer = searchEmoji(entries, 'heart yellow');
    expect(names(fewer)).toEqual(['💛']);
    expect(searchEmoji(entries, 'zzzxqqq')).toEqual([]);
    expect(searchEmoji(entries, '   ')).toEqual([]);
  });

  it('ignores case and accents', async () => {
    const { entries } = await loadCatalog();
    expect(names(searchEmoji(entries, 'PIÑATA'))).toEqual(['🪅']);
    expect(names(searchEmoji(entries, 'cote d’ivoire'))).toEqual(['🇨🇮']);
    expect(names(searchEmoji(entries, 'Côte'))).toContain('🇨🇮');
    expect(fold('Ça Été')).toBe('ca ete');
  });

  it('puts the recently used first among equals, and offers only what is accepted', async () => {
    const { entries: three } = indexCatalog([
      { emoji: '🍎', name: 'red apple', group: 4, order: 1, shortcodes: ['apple'], emoticons: [], tags: [] },
      { emoji: '🍏', name: 'green apple', group: 4, order: 2, shortcodes: ['green_apple'], emoticons: [], tags: [] },
      { emoji: '🥧', name: 'pie', group: 4, order: 3, shortcodes: ['pie'], emoticons: [], tags: ['apple'] },
    ]);
    expect(names(searchEmoji(three, 'app'))).toEqual(['🍎', '🍏', '🥧']);
    expect(names(searchEmoji(three, 'app', { recent: ['🥧', '🍏'] }))).toEqual(['🍏', '🍎', '🥧']);
    expect(names(searchEmoji(three, 'apple', { recent: ['🍏'] }))).toEqual(['🍎', '🍏', '🥧']); // exact first
    const { entries } = await loadCatalog();
    expect(names(searchEmoji(entries, 'keycap'))).toContain('1️⃣');
    expect(names(searchEmoji(entries, 'keycap', { accept: fitsReaction }))).toEqual(['#️⃣', '*️⃣', '🔟']);
  });
});

describe('recently used emoji', () => {
  beforeEach(() => localStorage.clear());

  it('keep the newest first, once each, at most 24', () => {
    expect(recentEmoji()).toEqual([]);
    rememberEmoji('💛');
    rememberEmoji('🎉');
    rememberEmoji('💛');
    expect(recentEmoji()).toEqual(['💛', '🎉']);
    for (let i = 0; i < 30; i++) rememberEmoji(String.fromCodePoint(0x1f600 + i));
    expect(recentEmoji()).toHaveLength(MAX_RECENT);
    expect(recentEmoji()[0]).toBe(String.fromCodePoint(0x1f600 + 29));
  });

  it('survive a damaged record', () => {
    localStorage.setItem('duet.recentEmoji', '{not json');
    expect(recentEmoji()).toEqual([]);
    localStorage.setItem('duet.recentEmoji', JSON.stringify(['💛', 3, '💛', null, '🎉']));
    expect(recentEmoji()).toEqual(['💛', '🎉']);
  });
});

describe('arrow keys in the grid', () => {
  // Recently used: 3; a group: 20 (rows of 8: 8, 8, 4).
  const sizes = [3, 20];
  const move = (index: number, key: string) => moveInGrid(sizes, index, key, COLUMNS);

  it('move by one across, by a row up and down, between sections by column', () => {
    expect(move(0, 'ArrowRight')).toBe(1);
    expect(move(2, 'ArrowRight')).toBe(3);
    expect(move(3, 'ArrowLeft')).toBe(2);
    expect(move(0, 'ArrowLeft')).toBe(0);
    expect(move(1, 'ArrowDown')).toBe(4); // into the group, same column
    expect(move(4, 'ArrowUp')).toBe(1);
    expect(move(10, 'ArrowUp')).toBe(2); // column 7 above a row of 3: its last
    expect(move(4, 'ArrowDown')).toBe(12);
    expect(move(18, 'ArrowDown')).toBe(22); // column 7 above a row of 4: its last
    expect(move(22, 'ArrowDown')).toBe(22);
    expect(move(1, 'ArrowUp')).toBe(-1); // back to the search field
    expect(move(5, 'End')).toBe(22);
    expect(move(5, 'Home')).toBe(0);
  });
});
