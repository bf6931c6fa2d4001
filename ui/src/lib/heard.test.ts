import { describe, expect, it } from 'vitest';

import { Heard } from './heard';

describe('heard', () => {
  it('names what was heard after a mark, once each, and nothing from before it', () => {
    const heard = new Heard<string>();
    heard.hear('ada');
    const asked = heard.mark();
    expect(heard.since(asked)).toEqual([]);
    heard.hear('ben');
    heard.hear('ben');
    expect(heard.since(asked)).toEqual(['ben']);
    heard.hear('ada');
    expect(heard.since(asked).sort()).toEqual(['ada', 'ben']);
    expect(heard.since(heard.mark())).toEqual([]);
    heard.clear();
    expect(heard.since(0)).toEqual([]);
  });
});
