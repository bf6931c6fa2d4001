/**
 * The one door to the Rust shell. Every feature calls typed functions from this folder; no
 * other file imports `@tauri-apps/api`.
 *
 * `call` never throws: a rejected invoke becomes `{ ok: false, error }` with the shell's
 * `{code, message}`, and a page opened without the desktop app (a plain browser, `vite dev`
 * outside Tauri) gets `backend_unavailable` instead of a crash.
 */
import { invoke } from '@tauri-apps/api/core';

import type { ErrorCode as ShellErrorCode } from './bindings/ErrorCode';
import type { AppError, Outcome } from './types';

/** Every code the shell may send (a `Record` so that a new Rust code fails `npm run check`). */
const SHELL_CODES: Record<ShellErrorCode, true> = {
  store_unavailable: true,
  store_failed: true,
  node_unavailable: true,
  not_initialized: true,
  already_initialized: true,
  not_paired: true,
  already_paired: true,
  invalid_input: true,
  pairing_failed: true,
  not_found: true,
  not_allowed: true,
  network: true,
  timeout: true,
  stopped: true,
  device_unavailable: true,
  unreadable_file: true,
  unwritable_file: true,
  blob_not_here: true,
  blob_failed: true,
  needs_passphrase: true,
  wrong_passphrase: true,
  keyring_unavailable: true,
  needs_new_passphrase: true,
  internal: true,
};

declare global {
  interface Window {
    __TAURI_INTERNALS__?: { invoke?: unknown };
  }
}

/** Whether the page runs inside the Duet desktop app (or under a mocked IPC in tests). */
export function backendPresent(): boolean {
  return typeof window !== 'undefined' && typeof window.__TAURI_INTERNALS__?.invoke === 'function';
}

/** The error every call returns when the page runs without the desktop app. */
export function unavailable(): AppError {
  return {
    code: 'backend_unavailable',
    message:
      'This is Duet’s window opened without the Duet app behind it, so there is nothing to show yet. Start the desktop app to see your profile.',
  };
}

/** Calls a shell command by name; `commands.ts` wraps each one with its types. */
export async function call<T>(command: string, args: Record<string, unknown> = {}): Promise<Outcome<T>> {
  if (!backendPresent()) {
    return { ok: false, error: unavailable() };
  }
  try {
    return { ok: true, value: await invoke<T>(command, args) };
  } catch (thrown) {
    return { ok: false, error: toAppError(thrown) };
  }
}

/** Calls a command with a raw body (bytes) and headers, e.g. a file to send. */
export async function callRaw<T>(command: string, body: Uint8Array, headers: Record<string, string>): Promise<Outcome<T>> {
  if (!backendPresent()) {
    return { ok: false, error: unavailable() };
  }
  try {
    return { ok: true, value: await invoke<T>(command, body, { headers }) };
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
    typeof thrown.code === 'string' &&
    typeof thrown.message === 'string' &&
    Object.hasOwn(SHELL_CODES, thrown.code)
  ) {
    return { code: thrown.code as ShellErrorCode, message: thrown.message };
  }
  const detail = thrown instanceof Error ? thrown.message : String(thrown);
  return {
    code: 'backend_failed',
    message: `The Duet app did not answer as expected (${detail}).`,
  };
}
