import { describe, expect, it } from 'vitest';

import { sentence } from './text';

describe('device words shown alone', () => {
  it('end with one full stop', () => {
    expect(sentence('No camera found: the call goes on with sound only')).toBe('No camera found: the call goes on with sound only.');
    expect(sentence('The microphone stopped working; trying it again. ')).toBe('The microphone stopped working; trying it again.');
    expect(sentence('Is it plugged in?')).toBe('Is it plugged in?');
  });
});
