#!/usr/bin/env node
/**
 * A sine tone for a test microphone (scripts/e2e-app.sh pipes it into `pacat`): 16-bit mono
 * little-endian samples of `hz` at `rate`, at 40 % of full scale, written for as long as the
 * reader takes them. The pipe paces it: a full pipe waits for `drain`.
 *
 *   node ui/e2e/tone.mjs HZ RATE | pacat --playback --format=s16le --channels=1 --rate=RATE
 */
const hz = Number(process.argv[2]);
const rate = Number(process.argv[3]);
if (!(hz > 0) || !(rate > 0)) {
  console.error('usage: tone.mjs HZ RATE');
  process.exit(2);
}

const BLOCK = 960; // 20 ms at 48 kHz
let n = 0;

function block() {
  const bytes = Buffer.alloc(BLOCK * 2);
  for (let i = 0; i < BLOCK; i++, n++) bytes.writeInt16LE(Math.round(Math.sin((2 * Math.PI * hz * n) / rate) * 0.4 * 32767), i * 2);
  return bytes;
}

function pump() {
  while (process.stdout.write(block()));
  process.stdout.once('drain', pump);
}

// The reader went away (the attempt is over): stop quietly.
process.stdout.on('error', () => process.exit(0));
pump();
