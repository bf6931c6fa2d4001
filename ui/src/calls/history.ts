/** Call records as lines in the conversation. */
import type { Call, PersonId } from '../lib/backend';
import { t } from '../lib/i18n/index.svelte';
import { callTimer } from './callSession.svelte';

/** The line for a call record, in the window's language: "Missed voice call from Ada". */
export function callNoteText(call: Call, me: PersonId, nameOf: (id: PersonId) => string): string {
  const kind = call.kind === 'video' ? 'video' : 'voice';
  const mine = call.caller === me;
  switch (call.state) {
    case 'missed':
      return mine
        ? t(`calls.note.${kind}.missedByPartner`, { name: nameOf(call.participants.find((p) => p !== me) ?? '') })
        : t(`calls.note.${kind}.missed`, { name: nameOf(call.caller) });
    case 'declined':
      return mine ? t(`calls.note.${kind}.declinedByPartner`) : t(`calls.note.${kind}.declined`);
    case 'failed':
      return t(`calls.note.${kind}.failed`);
    case 'ringing':
    case 'active':
      return t(`calls.note.${kind}.inProgress`);
    case 'ended': {
      const ms = call.answered_at !== null && call.ended_at !== null ? call.ended_at - call.answered_at : 0;
      return t(`calls.note.${kind}.ended`, { duration: callTimer(ms) });
    }
  }
}
