/** Call records as lines in the conversation. */
import type { Call, PersonId } from '../lib/backend';
import { callTimer } from './callSession.svelte';

export function callNoteText(call: Call, me: PersonId, nameOf: (id: PersonId) => string): string {
  const kind = call.kind === 'video' ? 'video call' : 'voice call';
  const Kind = kind[0]!.toUpperCase() + kind.slice(1);
  const mine = call.caller === me;
  switch (call.state) {
    case 'missed':
      return mine ? `${nameOf(call.participants.find((p) => p !== me) ?? '')} missed your ${kind}` : `Missed ${kind} from ${nameOf(call.caller)}`;
    case 'declined':
      return mine ? `${Kind} declined` : `You declined a ${kind}`;
    case 'failed':
      return `${Kind} could not connect`;
    case 'ringing':
    case 'active':
      return `${Kind} in progress`;
    case 'ended': {
      const ms = call.answered_at !== null && call.ended_at !== null ? call.ended_at - call.answered_at : 0;
      return `${Kind} · ${callTimer(ms)}`;
    }
  }
}
