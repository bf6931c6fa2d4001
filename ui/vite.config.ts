/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

// The Tauri shell loads `ui/dist` (see the root `tauri.conf.json`); `npm run dev` serves the
// same page on a fixed port that `build.devUrl` points at.
export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    host: '127.0.0.1',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // WebKitGTK 2.50 (Debian 12's webview) handles modern JavaScript.
    target: 'safari16',
    // The emoji data (emojibase, ~820 kB) is its own chunk, loaded when a picker first opens
    // (chat/emoji/catalog.ts), never with the window: a warning for it says nothing. The main
    // chunk is ~360 kB (the English strings among it; French is a chunk of its own,
    // loaded when the window speaks it, lib/i18n); this still warns if
    // any chunk ever passes 900.
    chunkSizeWarningLimit: 900,
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    setupFiles: ['./vitest.setup.ts'],
    // Lets `app.css?raw` reach the palette test as text.
    css: { include: [/app\.css/] },
  },
});
