/** Call fixtures for tests: `CallInfo` as the node sends it in `call` events (me calling my partner). */
import type { CallInfo } from '../lib/backend';
import { ME, PARTNER } from './messages';

export function callInfo(over: Partial<CallInfo> = {}): CallInfo {
  return {
    id: 'c0'.repeat(16),
    kind: 'video',
    direction: 'outgoing',
    caller: ME,
    peer: PARTNER,
    peer_device: null,
    phase: 'calling',
    outcome: null,
    started_at: 1_000_000,
    answered_at: null,
    ended_at: null,
    ...over,
  };
}
