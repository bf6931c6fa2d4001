/**
 * The app lock as the window sees it: whether it is locked, locking on demand (Ctrl+L) and
 * after the chosen idle time (no key press, click or mouse move), unlocking, and changing the
 * passphrase. The shell keeps the passphrase (an argon2id hash) and starts locked when one is
 * set; it also keeps notifications free of message words while locked
 * (`src-tauri/src/lock.rs`). Outside the desktop app (Vitest, `?mock`) it answers through the
 * IPC mock like every command.
 */
import { appLock as readLock, lockApp, setAppLock, unlockApp, type AppError, type LockStatus, type Outcome } from '../lib/backend';

/** What can be chosen for "Lock after", in minutes (0: only on demand). */
export const IDLE_CHOICES = [0, 1, 5, 15, 60] as const;

/** What the window's user does that counts as being there. */
const ACTIVITY = ['keydown', 'pointerdown', 'pointermove', 'wheel'] as const;

const UNLOCKED: LockStatus = { enabled: false, idle_minutes: 0, locked: false, problem: null };

class AppLockState {
  status = $state<LockStatus>(UNLOCKED);
  loaded = $state(false);
  /** The last thing that went wrong, in words. */
  error = $state<AppError | null>(null);
  busy = $state(false);

  private idleTimer: ReturnType<typeof setTimeout> | undefined;

  async load(): Promise<void> {
    const outcome = await readLock();
    // The shell always answers; without one (a browser preview) there is no lock.
    this.take(outcome.ok && outcome.value ? outcome.value : UNLOCKED);
    this.loaded = true;
  }

  async lock(): Promise<void> {
    if (!this.status.enabled || this.status.locked) return;
    const outcome = await lockApp();
    if (outcome.ok) this.take(outcome.value);
    else this.error = outcome.error;
  }

  /** Opens the lock; `false` when the passphrase is not right (the error says so). */
  async unlock(passphrase: string): Promise<boolean> {
    return this.ask(() => unlockApp(passphrase));
  }

  /**
   * Sets, changes or removes (`passphrase: null`) the passphrase and the idle time; `current`
   * when one is set. `false` when it was refused (the error says why).
   */
  async configure(current: string | null, passphrase: string | null, idleMinutes: number): Promise<boolean> {
    return this.ask(() => setAppLock(current, passphrase, idleMinutes));
  }

  /** One request that answers with the lock as it is now; `false` with its error kept. */
  private async ask(request: () => Promise<Outcome<LockStatus>>): Promise<boolean> {
    this.busy = true;
    const outcome = await request();
    this.busy = false;
    if (!outcome.ok) {
      this.error = outcome.error;
      return false;
    }
    this.error = null;
    this.take(outcome.value);
    return true;
  }

  /** Ctrl+L and the idle timer, until the returned function is called. */
  follow(target: Window = window): () => void {
    const onKey = (event: KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === 'l' && this.status.enabled) {
        event.preventDefault();
        void this.lock();
      }
    };
    const onActivity = () => this.rearm();
    target.addEventListener('keydown', onKey);
    for (const kind of ACTIVITY) target.addEventListener(kind, onActivity, { passive: true });
    this.rearm();
    return () => {
      target.removeEventListener('keydown', onKey);
      for (const kind of ACTIVITY) target.removeEventListener(kind, onActivity);
      clearTimeout(this.idleTimer);
    };
  }

  private take(status: LockStatus): void {
    this.status = status;
    this.rearm();
  }

  /** Starts the idle time again (nothing to time while locked or with no idle lock). */
  private rearm(): void {
    clearTimeout(this.idleTimer);
    const { enabled, locked, idle_minutes } = this.status;
    if (!enabled || locked || idle_minutes === 0) return;
    this.idleTimer = setTimeout(() => void this.lock(), idle_minutes * 60_000);
  }
}

export const appLock = new AppLockState();
