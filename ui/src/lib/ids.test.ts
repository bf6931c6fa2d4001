import { describe, expect, it } from 'vitest';

import { shortId } from './ids';

describe('shortId', () => {
  it('keeps the first eight and last four characters of a long id', () => {
    expect(shortId('0123456789abcdef'.repeat(4))).toBe('01234567…cdef');
  });

  it('shows short ids whole', () => {
    expect(shortId('abcdef012345')).toBe('abcdef012345');
  });
});
