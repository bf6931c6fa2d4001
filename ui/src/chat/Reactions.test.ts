import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import type { Message } from '../lib/backend';
import { ME, PARTNER, at, msg } from '../test/messages';
import Reactions from './Reactions.svelte';
import { summarize } from './reactions';
import { Timeline } from './timeline.svelte';

afterEach(() => clearMocks());

const nameOf = (id: string) => (id === ME ? 'You' : 'Ben');

describe('reaction chips', () => {
  const reactions = [
    { user: PARTNER, emoji: '💛', created_at: 1 },
    { user: ME, emoji: '💛', created_at: 2 },
    { user: PARTNER, emoji: '😂', created_at: 3 },
  ];

  it('count each emoji once per person and press the ones that are mine', () => {
    render(Reactions, { reactions, me: ME, nameOf, ontoggle: () => {} });
    const chips = screen.getAllByTestId('reaction');
    expect(chips.map((c) => [c.dataset.emoji, c.textContent?.replace(/\s+/g, '')])).toEqual([
      ['💛', '💛2'],
      ['😂', '😂1'],
    ]);
    expect(chips[0]).toHaveAttribute('aria-pressed', 'true');
    expect(chips[1]).toHaveAttribute('aria-pressed', 'false');
    expect(chips[0]).toHaveAttribute('title', 'Ben and You reacted with 💛');
  });

  it('toggle on click', async () => {
    const ontoggle = vi.fn();
    render(Reactions, { reactions, me: ME, nameOf, ontoggle });
    await fireEvent.click(screen.getAllByTestId('reaction')[1]!);
    expect(ontoggle).toHaveBeenCalledWith('😂');
  });

  it('ignore a duplicate reaction of the same person', () => {
    const s = summarize([...reactions, { user: PARTNER, emoji: '😂', created_at: 4 }], ME);
    expect(s.find((x) => x.emoji === '😂')?.count).toBe(1);
  });
});

describe('toggling a reaction', () => {
  function timelineWith(m: Message, answer: (cmd: string, args: Record<string, unknown>) => unknown) {
    const calls: [string, Record<string, unknown>][] = [];
    mockIPC((cmd, args) => {
      calls.push([cmd, args as Record<string, unknown>]);
      if (cmd === 'messages') return { messages: [m], older: null };
      return answer(cmd, args as Record<string, unknown>);
    });
    return { timeline: new Timeline('direct', ME), calls };
  }

  it('adds mine with `react`, showing it before the node answers', async () => {
    const m = msg({ created_at: at(20), reactions: [{ user: PARTNER, emoji: '💛', created_at: 1 }] });
    let release: (v: unknown) => void = () => {};
    const { timeline, calls } = timelineWith(m, () => new Promise((r) => (release = r)));
    await timeline.loadLatest();

    const done = timeline.toggleReaction(m.id, '💛');
    expect(summarize(timeline.byId(m.id)!.reactions, ME)).toEqual([
      { emoji: '💛', count: 2, mine: true, people: [PARTNER, ME] },
    ]);
    release({ ...m, reactions: [...m.reactions, { user: ME, emoji: '💛', created_at: 5 }] });
    expect(await done).toBeNull();
    expect(calls.at(-1)).toEqual(['react', { id: m.id, emoji: '💛' }]);
  });

  it('takes mine back with `unreact`', async () => {
    const m = msg({ created_at: at(20), reactions: [{ user: ME, emoji: '🎉', created_at: 1 }] });
    const { timeline, calls } = timelineWith(m, () => ({ ...m, reactions: [] }));
    await timeline.loadLatest();
    await timeline.toggleReaction(m.id, '🎉');
    expect(calls.at(-1)).toEqual(['unreact', { id: m.id, emoji: '🎉' }]);
    expect(timeline.byId(m.id)!.reactions).toEqual([]);
  });

  it('puts the reactions back and says why when the node refuses', async () => {
    const m = msg({ created_at: at(20) });
    const { timeline } = timelineWith(m, () => {
      throw { code: 'invalid_input', message: 'That is not an emoji.' };
    });
    await timeline.loadLatest();
    const error = await timeline.toggleReaction(m.id, '💛');
    expect(error?.message).toBe('That is not an emoji.');
    expect(timeline.byId(m.id)!.reactions).toEqual([]);
  });
});
