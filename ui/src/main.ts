import { mount } from 'svelte';

import './app.css';
import App from './App.svelte';
import { backendPresent } from './lib/backend';
import { language } from './lib/i18n/index.svelte';
import { startTheme } from './lib/theme.svelte';

performance.mark('duet:script');

// The chosen theme (Settings → Appearance) before anything is drawn: no flash of the other one.
startTheme();
// The chosen language (Settings → Appearance), so the first paint already speaks it.
await language.start();

const target = document.getElementById('app');
if (!target) {
  throw new Error('index.html has no #app element');
}

// `?mock` outside the desktop app: an in-memory Duet to look at the window (src/dev/).
const mock = new URLSearchParams(window.location.search).get('mock');
if (mock !== null && !backendPresent()) {
  const { installFakeBackend } = await import('./dev/fakeBackend');
  installFakeBackend(mock);
}

export default mount(App, { target });
