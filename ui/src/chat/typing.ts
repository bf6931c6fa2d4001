/**
 * Typing indicators. Mine: at most one `typing` call every 3 s while I type. My partner's:
 * shown for 5 s after their last signal, and at once hidden when their message arrives.
 */
export const TYPING_SEND_EVERY_MS = 3_000;
export const TYPING_SHOWN_FOR_MS = 5_000;

/** Calls `send` on the first keystroke and then at most once per interval. */
export class TypingThrottle {
  private last = -Infinity;

  constructor(
    private readonly send: () => void,
    private readonly every = TYPING_SEND_EVERY_MS,
    private readonly clock: () => number = Date.now,
  ) {}

  /** A keystroke that changed the text. */
  typed(): void {
    const t = this.clock();
    if (t - this.last >= this.every) {
      this.last = t;
      this.send();
    }
  }

  /** The message went out: the next keystroke signals again at once. */
  reset(): void {
    this.last = -Infinity;
  }
}
