import { describe, expect, it } from 'vitest';

import { around, fold, idBefore, pieces, queryWords } from './words';

describe('search words', () => {
  it('folds accents, case and width as the node does', () => {
    expect(fold('Café')).toBe('cafe');
    expect(fold('ÉTÉ')).toBe('ete');
    expect(fold('Ｆｕｌｌ')).toBe('full');
    expect(queryWords("  au CAFÉ, s'il vous plaît au ")).toEqual(['au', 'cafe', "s'il", 'vous', 'plait']);
    expect(queryWords('?! —')).toEqual([]);
  });

  it('marks the words looked for, whatever their accents or case', () => {
    expect(pieces('On se voit au Café ce soir ?', queryWords('au cafe'))).toEqual([
      { text: 'On se voit ', hit: false },
      { text: 'au', hit: true },
      { text: ' ', hit: false },
      { text: 'Café', hit: true },
      { text: ' ce soir ?', hit: false },
    ]);
    expect(pieces('cafeteria', ['cafe'])).toEqual([{ text: 'cafeteria', hit: false }]);
    expect(pieces('', ['x'])).toEqual([]);
  });

  it('shows a long text around its first match', () => {
    const text = `${'a '.repeat(200)}the beach house ${'b '.repeat(200)}`;
    const shown = around(text, ['beach'], 60);
    expect(shown.startsWith('…') && shown.endsWith('…')).toBe(true);
    expect(shown).toContain('beach');
    expect(shown.length).toBeLessThanOrEqual(62);
    expect(around('short', ['x'])).toBe('short');
  });

  it('names the id below a time', () => {
    expect(idBefore(0x18c0a1b2c3d)).toBe('0000018c0a1b2c3d0000000000000000');
    expect(idBefore(-5)).toBe('0'.repeat(32));
  });
});
