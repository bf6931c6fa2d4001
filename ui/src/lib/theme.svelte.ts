/**
 * The theme: System (the default: light or dark as the computer prefers), Light or Dark.
 *
 * It is this device's preference, kept in `localStorage` (the node keeps no window
 * preferences), and shown as `<html data-theme="system|light|dark">`, which `app.css` reads
 * (see the comment at its top). `startTheme()` runs in `main.ts` before the window is mounted,
 * so the first paint already has the chosen theme; Settings → Appearance calls `choose`.
 *
 * The CSS follows the system by itself; `theme.effective` says which palette shows now
 * ("System (dark now)" in Settings), kept current from `prefers-color-scheme` changes.
 */
export const THEME_CHOICES = ['system', 'light', 'dark'] as const;
export type ThemeChoice = (typeof THEME_CHOICES)[number];

export const THEME_KEY = 'duet.theme';
const DARK_QUERY = '(prefers-color-scheme: dark)';

function isChoice(value: unknown): value is ThemeChoice {
  return (THEME_CHOICES as readonly unknown[]).includes(value);
}

/** What was chosen on this device; anything else (nothing, an old or garbled value) is System. */
function stored(): ThemeChoice {
  try {
    const value = globalThis.localStorage?.getItem(THEME_KEY);
    return isChoice(value) ? value : 'system';
  } catch {
    return 'system'; // storage refused (a locked-down webview): the default, every start
  }
}

function keep(choice: ThemeChoice): void {
  try {
    globalThis.localStorage?.setItem(THEME_KEY, choice);
  } catch {
    // Not kept across restarts, but it still applies now.
  }
}

class Theme {
  choice = $state<ThemeChoice>('system');
  /** Whether the computer prefers dark (`prefers-color-scheme`), kept current. */
  systemDark = $state(false);

  /** The palette that shows now. */
  get effective(): 'light' | 'dark' {
    if (this.choice !== 'system') return this.choice;
    return this.systemDark ? 'dark' : 'light';
  }

  #stopFollowing: (() => void) | undefined;

  /** Reads the stored choice, applies it and follows the system's preference. */
  start(): ThemeChoice {
    this.#stopFollowing?.();
    this.#stopFollowing = this.#followSystem();
    this.#apply(stored());
    return this.choice;
  }

  /** Applies a choice at once and keeps it for the next start. */
  choose(choice: ThemeChoice): void {
    const next = isChoice(choice) ? choice : 'system';
    this.#apply(next);
    keep(next);
  }

  /** Stops following the system (the tests' clean-up). */
  stop(): void {
    this.#stopFollowing?.();
    this.#stopFollowing = undefined;
  }

  #apply(choice: ThemeChoice): void {
    this.choice = choice;
    document.documentElement.dataset.theme = choice;
  }

  #followSystem(): (() => void) | undefined {
    if (typeof window.matchMedia !== 'function') return undefined; // jsdom, or a very old engine
    const query = window.matchMedia(DARK_QUERY);
    this.systemDark = query.matches;
    const changed = (event: MediaQueryListEvent) => (this.systemDark = event.matches);
    query.addEventListener('change', changed);
    return () => query.removeEventListener('change', changed);
  }
}

export const theme = new Theme();

/** `main.ts`: the stored theme, before the first paint. */
export function startTheme(): ThemeChoice {
  return theme.start();
}
