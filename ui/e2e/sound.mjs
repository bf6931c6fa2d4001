/**
 * What each app's speaker plays, for ui/e2e/two-instances.mjs. scripts/e2e-app.sh gives each
 * app a private PulseAudio (the layout of crates/duet-cli/tests/common/sound.rs): a null sink
 * `speaker` (the default output) and a null sink `micfeed` remapped into the source `mic` (the
 * default input), which the script feeds a tone of its own per app. The app reaches them the
 * way a desktop app does, through ALSA's `default` device and the pulse plugin. Here a
 * speaker is recorded from `speaker.monitor` with `parec`, and its pitch found with a Goertzel
 * filter swept over the voice band (as duet-call's `analysis::dominant_frequency` does).
 *
 * Env: E2E_SOUND_A / E2E_SOUND_B, each app's sound server directory (its socket is `native`).
 */
import { spawn } from 'node:child_process';

export const RATE = 48_000;

/** The environment that reaches the sound server in `dir`. */
function soundEnv(dir) {
  return { ...process.env, XDG_RUNTIME_DIR: dir, PULSE_SERVER: `unix:${dir}/native`, HOME: dir };
}

/**
 * Records `ms` milliseconds of what the speaker of the server in `dir` plays (16-bit mono).
 * `onStarted` is called when the first audio arrives (the recorder is connected: a null
 * sink's monitor sends silence all along).
 */
export function recordSpeaker(dir, ms, onStarted = () => {}) {
  const want = Math.round((RATE * ms) / 1000) * 2;
  return new Promise((resolve, reject) => {
    const rec = spawn('parec', ['--device=speaker.monitor', '--format=s16le', '--channels=1', `--rate=${RATE}`, '--latency-msec=20'], {
      env: soundEnv(dir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks = [];
    let have = 0;
    let said = '';
    const timer = setTimeout(() => {
      rec.kill();
      reject(new Error(`parec gave ${have} of ${want} bytes in ${ms + 5000} ms: ${said.trim()}`));
    }, ms + 5000);
    rec.stderr.on('data', (d) => (said += d));
    rec.stdout.on('data', (d) => {
      if (have === 0) onStarted();
      chunks.push(d);
      have += d.length;
      if (have >= want) {
        clearTimeout(timer);
        rec.kill();
        const bytes = Buffer.concat(chunks).subarray(0, want);
        resolve(new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + want)));
      }
    });
    rec.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Root mean square, 0 to 1. */
export function rms(samples) {
  let sum = 0;
  for (const s of samples) sum += (s / 32768) ** 2;
  return samples.length ? Math.sqrt(sum / samples.length) : 0;
}

/** The power of one frequency in the samples (Goertzel). */
function powerAt(samples, hz) {
  const coeff = 2 * Math.cos((2 * Math.PI * hz) / RATE);
  let s1 = 0;
  let s2 = 0;
  for (const x of samples) {
    const s0 = x / 32768 + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/** The strongest frequency between 50 Hz and 4 kHz, to 5 Hz; `null` for near silence. */
export function dominantHz(samples) {
  if (rms(samples) < 0.005) return null;
  let best = [0, 0];
  for (let hz = 50; hz <= 4000; hz += 5) {
    const p = powerAt(samples, hz);
    if (p > best[1]) best = [hz, p];
  }
  return best[0];
}

/** Whether the speaker of the server in `dir` plays `hz` now (0.3 s of it, within 15 Hz). */
export async function speakerPlays(dir, hz) {
  const heard = dominantHz(await recordSpeaker(dir, 300));
  return heard !== null && Math.abs(heard - hz) <= 15 ? heard : null;
}

/** The dominant pitch of each 50 ms of `samples` that is not near silence. */
export function pitches(samples) {
  const step = RATE / 20;
  const out = [];
  for (let i = 0; i + step <= samples.length; i += step) {
    const hz = dominantHz(samples.subarray(i, i + step));
    if (hz !== null) out.push(hz);
  }
  return out;
}
