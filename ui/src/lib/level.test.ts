import { describe, expect, it } from 'vitest';

import { levelFraction } from './level';

describe('the level meter', () => {
  it('is empty in silence and full at full scale', () => {
    expect(levelFraction(0)).toBe(0);
    expect(levelFraction(Number.NaN)).toBe(0);
    expect(levelFraction(1)).toBe(1);
    expect(levelFraction(4)).toBe(1);
  });

  it('shows speech near the middle and a quiet room near empty, as ears hear them', () => {
    // A voice at about −20 dBFS RMS, room noise at about −55 dBFS.
    expect(levelFraction(0.1)).toBeCloseTo(2 / 3, 2);
    expect(levelFraction(0.0018)).toBeLessThan(0.1);
    expect(levelFraction(0.0005)).toBe(0);
  });
});
