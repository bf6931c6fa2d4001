/**
 * The one door to the Rust shell. Every feature calls typed functions from this folder; no
 * other file imports `@tauri-apps/api`.
 *
 * `call` never throws: a rejected invoke becomes `{ ok: false, error }` with the shell's
 * `{code, message}`, and a page opened without the desktop app (a plain browser, `vite dev`
 * outside Tauri) gets `backend_unavailable` instead of a crash.
 */
import { invoke } from '@tauri-apps/api/core';

import type { AppError, ErrorCode, Outcome, Person } from './types';

/** The commands the shell registers, with their arguments and results. */
export interface Commands {
  local_profile: { args: Record<string, never>; result: Person | null };
}

const SHELL_CODES: readonly ErrorCode[] = ['store_unavailable', 'store_failed'];

declare global {
  interface Window {
    __TAURI_INTERNALS__?: { invoke?: unknown };
  }
}

/** Whether the page runs inside the Duet desktop app (or under a mocked IPC in tests). */
export function backendPresent(): boolean {
  return typeof window !== 'undefined' && typeof window.__TAURI_INTERNALS__?.invoke === 'function';
}

/** Calls a shell command. */
export async function call<C extends keyof Commands>(
  command: C,
  args: Commands[C]['args'],
): Promise<Outcome<Commands[C]['result']>> {
  if (!backendPresent()) {
    return {
      ok: false,
      error: {
        code: 'backend_unavailable',
        message:
          'This is Duet’s window opened without the Duet app behind it, so there is nothing to show yet. Start the desktop app to see your profile.',
      },
    };
  }
  try {
    return { ok: true, value: await invoke<Commands[C]['result']>(command, args) };
  } catch (thrown) {
    return { ok: false, error: toAppError(thrown) };
  }
}

function toAppError(thrown: unknown): AppError {
  if (
    typeof thrown === 'object' &&
    thrown !== null &&
    'code' in thrown &&
    'message' in thrown &&
    typeof thrown.message === 'string' &&
    SHELL_CODES.includes(thrown.code as ErrorCode)
  ) {
    return { code: thrown.code as ErrorCode, message: thrown.message };
  }
  const detail = thrown instanceof Error ? thrown.message : String(thrown);
  return {
    code: 'backend_failed',
    message: `The Duet app did not answer as expected (${detail}).`,
  };
}
