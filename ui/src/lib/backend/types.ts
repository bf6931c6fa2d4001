/**
 * The shapes the Rust shell sends over IPC, mirroring `src-tauri/src/transport.rs` and
 * `src-tauri/src/error.rs`.
 *
 * Written by hand for the foundation stage, while the only command is `local_profile`; they are
 * to be generated from the Rust types once the command surface grows (DESIGN §1). Until then
 * `fixtures/person.json` is checked by both the Rust test and the UI tests.
 */

/** A person's id: the hex of their 32-byte ed25519 person key. */
export type PersonId = string;

/** A device's id: the hex of its 32-byte ed25519 key (also its libp2p PeerId). */
export type DeviceId = string;

/** An avatar: an emoji, or the BLAKE3 hash (hex) of an image blob. */
export type Avatar = { kind: 'emoji'; value: string } | { kind: 'image'; value: string };

/** A person (`PersonView` in the shell). */
export interface Person {
  id: PersonId;
  display_name: string;
  avatar: Avatar | null;
  devices: DeviceId[];
}

/**
 * Why something failed: a stable `code` the UI may branch on, and a `message` in plain words
 * to show as it is. Codes from the shell come first; the last two are raised here, in the UI.
 */
export type ErrorCode =
  | 'store_unavailable'
  | 'store_failed'
  | 'backend_unavailable'
  | 'backend_failed';

export interface AppError {
  code: ErrorCode;
  message: string;
}

/** The outcome of a backend call; calls never throw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: AppError };
