/** For the theme's tests: a stand-in for the system's light/dark preference. */
import { vi } from 'vitest';

/** Stubs `matchMedia('(prefers-color-scheme: dark)')` with an answer the test changes. */
export function fakeSystem(dark: boolean) {
  const listeners = new Set<(event: MediaQueryListEvent) => void>();
  const query = {
    matches: dark,
    media: '(prefers-color-scheme: dark)',
    addEventListener: (_type: string, listener: (event: MediaQueryListEvent) => void) => listeners.add(listener),
    removeEventListener: (_type: string, listener: (event: MediaQueryListEvent) => void) => listeners.delete(listener),
  };
  const asked: string[] = [];
  vi.stubGlobal('matchMedia', (media: string) => {
    asked.push(media);
    return query;
  });
  return {
    listeners,
    /** The media queries asked about. */
    asked,
    /** The system switches to dark (or light), as when the desktop's setting changes. */
    prefer(nowDark: boolean) {
      query.matches = nowDark;
      for (const listener of listeners) listener({ matches: nowDark, media: query.media } as MediaQueryListEvent);
    },
  };
}
