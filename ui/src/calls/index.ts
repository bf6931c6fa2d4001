/** The calls feature: what other features may use. */
export { default as CallButtons } from './CallButtons.svelte';
export { default as CallNote } from './CallNote.svelte';
export { default as CallView } from './CallView.svelte';
export { default as IncomingCall } from './IncomingCall.svelte';
export { callSession } from './callSession.svelte';
