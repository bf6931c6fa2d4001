/** Test helpers: the shape of a Tauri channel as a mocked shell receives it. */
export { encodeFrame } from '../lib/backend';

export interface Channel {
  onmessage: (data: ArrayBuffer) => void;
}
