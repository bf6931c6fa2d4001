import { describe, expect, it } from 'vitest';

import { passphraseRefusal } from './passphrase';

describe('a new passphrase', () => {
  it('needs 8 characters, counted as the node counts them', () => {
    expect(passphraseRefusal('seven c', 'seven c')).toEqual({ words: 'Use at least 8 characters.', field: 'first' });
    // Eight characters of four bytes each: long enough, though a string of 16 UTF-16 units.
    expect(passphraseRefusal('😀'.repeat(8), '😀'.repeat(8))).toBeNull();
    expect(passphraseRefusal('😀'.repeat(7), '😀'.repeat(7))?.field).toBe('first');
  });

  it('is at most 1,024 bytes', () => {
    expect(passphraseRefusal('é'.repeat(512), 'é'.repeat(512))).toBeNull();
    expect(passphraseRefusal('é'.repeat(513), 'é'.repeat(513))).toEqual({ words: 'That is too long: use at most 1,024 bytes.', field: 'first' });
  });

  it('is typed twice alike', () => {
    expect(passphraseRefusal('long enough', 'long enoug')).toEqual({ words: 'The two passphrases differ.', field: 'again' });
  });
});
