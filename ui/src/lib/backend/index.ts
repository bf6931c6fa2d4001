/** The backend module: the only place in the UI that talks to the Rust shell. See README.md. */
export { backendPresent } from './ipc';
export * from './commands';
export { onNodeEvent, CALL_NOTICE_EVENT, NODE_EVENT, RESYNC_EVENT } from './events';
export type * from './types';
export { decodeFrame, encodeFrame, type FrameHandler, type VideoFrame } from './frames';
