import { call } from './ipc';
import type { Outcome, Person } from './types';

/** The person this device belongs to, or `null` before a profile exists. */
export function localProfile(): Promise<Outcome<Person | null>> {
  return call('local_profile', {});
}
