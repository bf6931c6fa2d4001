import { mount } from 'svelte';

import './app.css';
import App from './App.svelte';
import { backendPresent } from './lib/backend';

performance.mark('duet:script');

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
