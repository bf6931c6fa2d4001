import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';

import type { Message } from '../lib/backend';
import { ME, PARTNER, at, msg } from '../test/messages';
import { Timeline, mergeMessages } from './timeline.svelte';

afterEach(() => clearMocks());

/** A shell holding `history` (oldest first) that answers `messages` pages like the node. */
function shell(history: Message[], more: (cmd: string, args: Record<string, unknown>) => unknown = () => null) {
  const calls: string[] = [];
  mockIPC((cmd, raw) => {
    const args = raw as Record<string, unknown>;
    calls.push(cmd);
    if (cmd === 'messages') {
      const before = args.before as string | null;
      const older = before ? history.filter((m) => m.id < before) : history;
      const page = older.slice(-(args.limit as number)).reverse();
      return { messages: page, older: older.length > page.length ? page.at(-1)!.id : null };
    }
    return more(cmd, args);
  });
  return calls;
}

const history = Array.from({ length: 120 }, (_, i) => msg({ created_at: at(19, 0) + i * 60_000, sender: i % 2 ? ME : PARTNER }));

describe('a conversation’s timeline', () => {
  it('loads the newest page, then older pages on request, oldest first', async () => {
    const calls = shell(history);
    const t = new Timeline('direct', ME);
    await t.loadLatest();
    expect(t.messages).toHaveLength(50);
    expect(t.messages.at(-1)!.id).toBe(history.at(-1)!.id);
    await Promise.all([t.loadOlder(), t.loadOlder()]);
    expect(calls.filter((c) => c === 'messages')).toHaveLength(2);
    expect(t.messages).toHaveLength(100);
    await t.loadOlder();
    expect(t.messages.map((m) => m.id)).toEqual(history.map((m) => m.id));
    expect(t.hasOlder).toBe(false);
  });

  it('shows a send at once as pending, then the node’s message', async () => {
    let answer: (m: Message) => void = () => {};
    shell([], (cmd) => (cmd === 'send' ? new Promise((r) => (answer = r)) : null));
    const t = new Timeline('direct', ME);
    await t.loadLatest();
    const sending = t.send('  hello  ');
    expect(t.entries).toHaveLength(1);
    expect(t.entries[0]!.pending?.state).toBe('sending');
    expect(t.entries[0]!.message.content).toBe('hello');
    const stored = msg({ created_at: Date.now(), sender: ME, content: 'hello' });
    answer(stored);
    await sending;
    expect(t.entries).toEqual([{ message: stored }]);
  });

  it('settles a pending send when its message_new arrives first, without doubling it', async () => {
    let answer: (m: Message) => void = () => {};
    shell([], (cmd) => (cmd === 'send' ? new Promise((r) => (answer = r)) : null));
    const t = new Timeline('direct', ME);
    await t.loadLatest();
    const sending = t.send('hi');
    const stored = msg({ created_at: Date.now(), sender: ME, content: 'hi' });
    t.handle({ event: 'message_new', message: stored });
    expect(t.entries).toEqual([{ message: stored }]);
    answer(stored);
    await sending;
    expect(t.entries).toEqual([{ message: stored }]);
  });

  it('keeps a failed send on screen with the reason, and can retry it', async () => {
    let fail = true;
    shell([], (cmd, args) => {
      if (cmd !== 'send') return null;
      if (fail) throw { code: 'network', message: 'Duet could not reach your devices.' };
      return msg({ created_at: Date.now(), sender: ME, content: args.text as string });
    });
    const t = new Timeline('direct', ME);
    await t.loadLatest();
    await t.send('do not lose me');
    expect(t.entries[0]!.pending).toEqual({ state: 'failed', error: 'Duet could not reach your devices.' });
    expect(t.entries[0]!.message.content).toBe('do not lose me');
    fail = false;
    await t.retry(t.entries[0]!.message.id);
    expect(t.entries).toHaveLength(1);
    expect(t.entries[0]!.pending).toBeUndefined();
  });

  it('refreshes receipts from the newest page', async () => {
    const mine = msg({ created_at: at(20), sender: ME });
    const held = [mine];
    shell(held);
    const t = new Timeline('direct', ME);
    await t.loadLatest();
    held[0] = { ...mine, read: true, read_at: at(20, 2) };
    t.handle({ event: 'receipts_changed', conversation: mine.conversation, up_to: mine.id });
    await t.refresh();
    expect(t.byId(mine.id)!.read).toBe(true);
  });

  it('only takes the messages of its own conversation', async () => {
    shell([]);
    const t = new Timeline({ channel: 'c1'.repeat(16) }, ME);
    await t.loadLatest();
    t.handle({ event: 'message_new', message: msg({ created_at: at(20) }) });
    expect(t.messages).toHaveLength(0);
    t.handle({ event: 'message_new', message: msg({ created_at: at(20), channel: 'c1'.repeat(16) }) });
    expect(t.messages).toHaveLength(1);
  });

  it('finds my last message to edit, skipping deleted ones', async () => {
    const a = msg({ created_at: at(20, 0), sender: ME, content: 'keep' });
    const b = msg({ created_at: at(20, 1), sender: ME, deleted: true, content: '' });
    const c = msg({ created_at: at(20, 2), sender: PARTNER });
    shell([a, b, c]);
    const t = new Timeline('direct', ME);
    await t.loadLatest();
    expect(t.lastOwnMessage()?.id).toBe(a.id);
    expect(t.lastIncoming()?.id).toBe(c.id);
  });

  it('merges by id and keeps time order', () => {
    const a = msg({ created_at: 1 });
    const b = msg({ created_at: 2 });
    const c = msg({ created_at: 3 });
    expect(mergeMessages([b], [c, a]).map((m) => m.id)).toEqual([a.id, b.id, c.id]);
    expect(mergeMessages([a, b], [{ ...b, edited: true }])[1]!.edited).toBe(true);
  });
});

describe('receipts of another conversation', () => {
  it('do not reload this one', async () => {
    const calls = shell([msg({ created_at: at(20), conversation: 'c1'.repeat(8) })]);
    const t = new Timeline('direct', ME);
    await t.loadLatest();
    t.handle({ event: 'receipts_changed', conversation: 'ff'.repeat(8), up_to: null });
    t.handle({ event: 'conversation_changed', conversation: 'c1'.repeat(8) });
    await new Promise((r) => setTimeout(r, 10));
    // loadLatest, then one refresh for the matching event.
    expect(calls.filter((c) => c === 'messages')).toHaveLength(2);
  });
});
