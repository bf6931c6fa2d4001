/**
 * How loud a microphone is, for a meter a person reads. The shell sends the RMS of the last
 * few milliseconds (0 to 1); ears hear loudness on a logarithmic scale, so the meter shows
 * decibels: −60 dBFS (a quiet room) is empty, 0 dBFS is full, speech sits around the middle.
 */

/** The quietest level the meter shows, in dBFS. */
export const METER_FLOOR_DB = -60;

/** The share of the meter (0 to 1) that an RMS level (0 to 1) fills. */
export function levelFraction(rms: number): number {
  if (!(rms > 0)) return 0;
  const db = 20 * Math.log10(Math.min(rms, 1));
  return Math.max(0, Math.min(1, (db - METER_FLOOR_DB) / -METER_FLOOR_DB));
}
