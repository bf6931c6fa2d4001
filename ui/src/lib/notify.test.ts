import { describe, expect, it } from 'vitest';

import { ME, PARTNER, at, msg } from '../test/messages';
import type { Conversation } from './backend';
import { callInfo } from '../test/calls';
import { missedCallNotification, reminderNotification, shouldNotify, type NotifyContext } from './notify';
import { clockTime } from './time';

const conversation: Conversation = {
  id: 'a1'.repeat(16),
  target: 'direct',
  participants: [ME, PARTNER],
  last_message: null,
  last_message_at: null,
  unread_count: 1,
  archived: false,
  muted: false,
  created_at: 0,
  updated_at: 0,
};

const base: NotifyContext = {
  message: msg({ created_at: at(20), sender: PARTNER }),
  me: ME,
  myStatus: 'online',
  conversation,
  openTarget: { channel: 'c1'.repeat(16) },
  windowActive: true,
};

describe('a desktop notification', () => {
  it('is shown for my partner’s message in a conversation I am not looking at', () => {
    expect(shouldNotify(base)).toBe(true);
    expect(shouldNotify({ ...base, openTarget: 'direct', windowActive: false })).toBe(true);
  });

  it('is not shown for my own messages', () => {
    expect(shouldNotify({ ...base, message: msg({ created_at: at(20), sender: ME }) })).toBe(false);
  });

  it('is not shown while I am busy', () => {
    expect(shouldNotify({ ...base, myStatus: 'busy' })).toBe(false);
    expect(shouldNotify({ ...base, myStatus: 'away' })).toBe(true);
  });

  it('is not shown for a muted conversation', () => {
    expect(shouldNotify({ ...base, conversation: { ...conversation, muted: true } })).toBe(false);
  });

  it('is not shown for the conversation open in a focused window', () => {
    expect(shouldNotify({ ...base, openTarget: 'direct' })).toBe(false);
  });
});

describe('a missed call notification', () => {
  const nameOf = (id: string) => (id === PARTNER ? 'Ben' : 'Me');
  const rangHere = callInfo({ direction: 'incoming', caller: PARTNER, kind: 'voice', phase: 'ended', outcome: 'missed', started_at: at(20, 5) });

  it('names my partner and the kind of call when their call rang here unanswered', () => {
    expect(missedCallNotification(rangHere, 'online', nameOf)).toEqual({
      title: 'Missed call from Ben',
      body: `Voice call at ${clockTime(at(20, 5))}`,
    });
    expect(missedCallNotification({ ...rangHere, kind: 'video' }, 'away', nameOf)?.body).toMatch(/^Video call at /);
  });

  it('is not shown for calls that were not missed here, nor while I am busy', () => {
    for (const outcome of ['declined', 'answered_elsewhere', 'ended', 'cancelled', 'busy', 'failed'] as const) {
      expect(missedCallNotification({ ...rangHere, outcome }, 'online', nameOf)).toBeNull();
    }
    expect(missedCallNotification({ ...rangHere, direction: 'outgoing', caller: ME }, 'online', nameOf)).toBeNull();
    expect(missedCallNotification({ ...rangHere, phase: 'ringing', outcome: null }, 'online', nameOf)).toBeNull();
    expect(missedCallNotification(rangHere, 'busy', nameOf)).toBeNull();
  });
});

describe("a shared date's reminder", () => {
  const now = new Date(2026, 1, 14, 18, 0).getTime();
  const at = new Date(2026, 1, 14, 19, 0).getTime();

  it('says its title and when it is, in local time', () => {
    expect(reminderNotification({ title: 'Dinner at Lisbon', at, silent: false }, now)).toEqual({
      title: '⏰ Dinner at Lisbon',
      body: `Today at ${clockTime(at)}`,
    });
    const nextWeek = new Date(2026, 1, 21, 19, 0).getTime();
    const body = reminderNotification({ title: 'Trip', at: nextWeek, silent: false }, now)!.body;
    expect(body).toMatch(/21/);
    expect(body).toMatch(new RegExp(`at ${clockTime(nextWeek)}$`));
  });

  it('gives none when it is silent (I am busy)', () => {
    expect(reminderNotification({ title: 'Dinner at Lisbon', at, silent: true }, now)).toBeNull();
  });
});
