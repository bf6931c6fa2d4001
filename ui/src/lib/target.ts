/** Helpers for `Target` ("direct" or a channel): a string key, equality, and a message's target. */
import type { Message, Target } from './backend';

/** A stable string for a target: `direct` or `channel:<hex>`. */
export function targetKey(target: Target): string {
  return target === 'direct' ? 'direct' : `channel:${target.channel}`;
}

export function sameTarget(a: Target, b: Target): boolean {
  return targetKey(a) === targetKey(b);
}

/** Where a message was posted. */
export function targetOf(message: Pick<Message, 'channel'>): Target {
  return message.channel ? { channel: message.channel } : 'direct';
}
