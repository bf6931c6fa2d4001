/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import type { Plugin } from 'vite';

/**
 * Fails the build when a script would reach the page with a character past ASCII: esbuild
 * escapes them in strings and templates (`charset: 'ascii'` below) but not in a regular
 * expression written with one (`/[‘’]/`), which must spell it `\u2019`.
 */
function asciiScripts(): Plugin {
  return {
    name: 'duet-ascii-scripts',
    apply: 'build',
    generateBundle(_, bundle) {
      for (const chunk of Object.values(bundle)) {
        const at = chunk.type === 'chunk' ? chunk.code.search(/[^\x00-\x7f]/) : -1;
        if (chunk.type === 'chunk' && at >= 0) {
          this.error(`${chunk.fileName} holds a character past ASCII: …${chunk.code.slice(at - 40, at + 10)}…`);
        }
      }
    },
  };
}

// The Tauri shell loads `ui/dist` (see the root `tauri.conf.json`); `npm run dev` serves the
// same page on a fixed port that `build.devUrl` points at.
export default defineConfig({
  plugins: [svelte(), svelteTesting(), asciiScripts()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    host: '127.0.0.1',
  },
  // The page's script escapes every character past ASCII (\u2019, \u{1f50d}): WebKit keeps a
  // script's source as text of one byte a character only when every character fits in one,
  // and a single curly quote or emoji doubles the whole 400 kB to two bytes each.
  esbuild: { charset: 'ascii' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // WebKitGTK 2.50 (Debian 12's webview) handles modern JavaScript.
    target: 'safari16',
    // The emoji data (emojibase, ~820 kB) is its own chunk, loaded when a picker first opens
    // (chat/emoji/catalog.ts), never with the window: a warning for it says nothing. The main
    // chunk is ~400 kB (both string catalogs are ~75 kB of it); this still warns if
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
