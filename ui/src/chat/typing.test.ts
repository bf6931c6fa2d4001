import { describe, expect, it } from 'vitest';

import { TypingThrottle } from './typing';

describe('my typing indicator', () => {
  it('is sent on the first keystroke and then at most every 3 seconds', () => {
    let t = 0;
    const sent: number[] = [];
    const throttle = new TypingThrottle(() => sent.push(t), 3000, () => t);
    for (t = 0; t <= 7000; t += 250) throttle.typed();
    expect(sent).toEqual([0, 3000, 6000]);
  });

  it('is sent again at once after a message went out', () => {
    let t = 0;
    const sent: number[] = [];
    const throttle = new TypingThrottle(() => sent.push(t), 3000, () => t);
    throttle.typed();
    t = 1000;
    throttle.reset();
    throttle.typed();
    expect(sent).toEqual([0, 1000]);
  });
});
