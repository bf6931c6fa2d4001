import { describe, expect, it } from 'vitest';

import { ME, PARTNER, at, msg } from '../test/messages';
import type { Conversation } from './backend';
import { shouldNotify, type NotifyContext } from './notify';

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
