/**
 * A voice message being recorded from the record button, as `AttachTools` shows it.
 *
 * The shell records (from the microphone chosen in Settings, or the test tone when that is on)
 * and reports the level and the length as it goes; five minutes stop it by itself, and the
 * note then waits to be sent or thrown away. Two ways to use the button, both with a pointer:
 *
 * - **click to record**: a short press starts; Send (or the record button again) sends;
 * - **hold to record**: pressed for at least `HOLD_MS`, letting go sends.
 *
 * From the keyboard the button toggles (start, then send). Cancel (or Esc) throws the note
 * away. A press released before the microphone has opened still counts: a hold sends as soon
 * as recording has started, a cancel stops it as soon as it has.
 */
import { startVoiceNote, stopVoiceNote, type AppError, type Target, type VoiceNoteProgress } from '../../lib/backend';

/** A press at least this long is a hold: letting go sends. Shorter is a click. */
export const HOLD_MS = 350;
/** Notices about the microphone kept on screen. */
const MAX_NOTICES = 3;

export type VoicePhase = 'idle' | 'starting' | 'recording' | 'full' | 'sending';

export class VoiceNote {
  phase = $state<VoicePhase>('idle');
  /** RMS of the last 20 ms, 0 to 1. */
  level = $state(0);
  recordedMs = $state(0);
  /** The test tone is recorded instead of the microphone. */
  testTone = $state(false);
  /** What the microphone said ("… was not found: recording from the default microphone"). */
  notices = $state<string[]>([]);
  /** Why the last attempt failed (no microphone, too short, not sent). */
  problem = $state<AppError | null>(null);

  /** Each recording gets a number; progress and answers for an older one are ignored. */
  #run = 0;
  #pressedAt: number | null = null;
  #pressedWhileActive = false;
  #sendWhenStarted = false;

  constructor(
    private readonly target: () => Target,
    private readonly clock: () => number = () => Date.now(),
  ) {}

  /** Recording, or about to: the recorder's controls show. */
  get active(): boolean {
    return this.phase === 'starting' || this.phase === 'recording' || this.phase === 'full';
  }

  async start(): Promise<void> {
    if (this.phase !== 'idle') return;
    const run = ++this.#run;
    this.phase = 'starting';
    this.problem = null;
    this.level = 0;
    this.recordedMs = 0;
    this.notices = [];
    this.testTone = false;
    const outcome = await startVoiceNote((p) => {
      if (run === this.#run) this.progress(p);
    });
    if (run !== this.#run) {
      // Cancelled while the microphone opened: throw away what it has begun to record.
      if (outcome.ok) void stopVoiceNote(null);
      return;
    }
    if (!outcome.ok) {
      this.phase = 'idle';
      this.problem = outcome.error;
      return;
    }
    this.testTone = outcome.value.test_tone;
    this.notices = outcome.value.notices.slice(-MAX_NOTICES);
    if (this.phase === 'starting') this.phase = 'recording';
    if (this.#sendWhenStarted) {
      this.#sendWhenStarted = false;
      await this.send();
    }
  }

  private progress(p: VoiceNoteProgress): void {
    this.level = p.level;
    this.recordedMs = p.recorded_ms;
    if (p.notice) this.notices = [...this.notices, p.notice].slice(-MAX_NOTICES);
    if (p.full && this.phase === 'recording') {
      this.phase = 'full';
      this.level = 0;
    }
  }

  /** Sends the note to the conversation. */
  async send(): Promise<void> {
    if (this.phase === 'starting') {
      this.#sendWhenStarted = true;
      return;
    }
    if (this.phase !== 'recording' && this.phase !== 'full') return;
    this.#run += 1;
    this.phase = 'sending';
    const outcome = await stopVoiceNote(this.target());
    this.phase = 'idle';
    this.level = 0;
    if (!outcome.ok) this.problem = outcome.error;
  }

  /** Throws the note away. */
  async cancel(): Promise<void> {
    if (!this.active) return;
    const opened = this.phase !== 'starting';
    this.#run += 1;
    this.#sendWhenStarted = false;
    this.phase = 'idle';
    this.level = 0;
    if (!opened) return; // `start` stops it once the microphone has opened
    const outcome = await stopVoiceNote(null);
    if (!outcome.ok) this.problem = outcome.error;
  }

  /** The record button is pressed (pointer down). */
  press(): void {
    this.#pressedAt = this.clock();
    this.#pressedWhileActive = this.active;
    if (this.phase === 'idle') void this.start();
  }

  /** The record button is let go: a second click or the end of a hold sends. */
  release(): void {
    const at = this.#pressedAt;
    this.#pressedAt = null;
    if (at === null) return;
    if (this.#pressedWhileActive || this.clock() - at >= HOLD_MS) void this.send();
  }

  /** The record button is used from the keyboard: start, then send. */
  toggle(): void {
    if (this.phase === 'idle') void this.start();
    else void this.send();
  }

  /** The component goes away: a note nobody can send any more is thrown away. */
  dispose(): void {
    void this.cancel();
  }
}

/** The recording's timer, `m:ss`, counting whole seconds recorded (never ahead of them). */
export function recordedTime(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
