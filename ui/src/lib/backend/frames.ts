/**
 * Decoded call video from the shell (`src-tauri/src/media.rs`): each frame arrives on a Tauri
 * channel as raw bytes, `width: u32 LE | height: u32 LE | RGBA pixels`.
 */
import { Channel } from '@tauri-apps/api/core';

export interface VideoFrame {
  width: number;
  height: number;
  /** width × height × 4 bytes. */
  rgba: Uint8ClampedArray<ArrayBuffer>;
}

export type FrameHandler = (frame: VideoFrame) => void;

/** Reads one frame message; `null` for one that does not hold what its header says. */
export function decodeFrame(data: ArrayBuffer | Uint8Array | number[]): VideoFrame | null {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data as ArrayBuffer);
  if (bytes.byteLength < 8) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(0, true);
  const height = view.getUint32(4, true);
  if (width === 0 || height === 0 || bytes.byteLength !== 8 + width * height * 4) return null;
  return { width, height, rgba: new Uint8ClampedArray(bytes.buffer as ArrayBuffer, bytes.byteOffset + 8, width * height * 4) };
}

/** Builds a frame message (the mock backend and tests send these). */
export function encodeFrame(width: number, height: number, rgba: Uint8Array | Uint8ClampedArray): Uint8Array {
  const out = new Uint8Array(8 + rgba.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, width, true);
  view.setUint32(4, height, true);
  out.set(rgba, 8);
  return out;
}

/** A channel whose frames go to `onframe`; frames that do not decode are dropped. */
export function frameChannel(onframe: FrameHandler): Channel<ArrayBuffer> {
  const channel = new Channel<ArrayBuffer>();
  channel.onmessage = (data) => {
    const frame = decodeFrame(data);
    if (frame) onframe(frame);
  };
  return channel;
}
