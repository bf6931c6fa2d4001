/**
 * WCAG AA for both themes, recomputed from app.css itself: text pairs need 4.5:1, the focus
 * ring and the marks 3:1 (non-text contrast).
 */
import { describe, expect, it } from 'vitest';

import css from '../app.css?raw';

type Palette = Record<string, string>;

function palette(block: string): Palette {
  const colours: Palette = {};
  for (const [, name, hex] of block.matchAll(/--([\w-]+):\s*(#[0-9a-f]{6})\s*;/gi)) {
    colours[name!] = hex!;
  }
  return colours;
}

const darkStart = css.indexOf('@media (prefers-color-scheme: dark)');
const themes: Record<string, Palette> = {
  light: palette(css.slice(0, darkStart)),
  dark: { ...palette(css.slice(0, darkStart)), ...palette(css.slice(darkStart)) },
};

function luminance(hex: string): number {
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

const TEXT_PAIRS: [string, string][] = [
  ['text', 'bg'],
  ['text', 'surface'],
  ['text', 'surface-sunk'],
  ['text-muted', 'bg'],
  ['text-muted', 'surface'],
  ['text-muted', 'surface-sunk'],
  ['accent-text', 'accent'],
  ['accent-soft-text', 'accent-soft'],
  ['danger', 'surface'],
  ['danger', 'bg'],
  ['text', 'rail'],
  ['text-muted', 'rail'],
  ['accent-soft-text', 'surface'],
];

const NON_TEXT_PAIRS: [string, string][] = [
  ['focus', 'bg'],
  ['focus', 'surface'],
  ['accent', 'surface'],
  ['mark-front', 'surface'],
  ['presence-online', 'surface'],
  ['presence-away', 'surface'],
  ['presence-busy', 'surface'],
  ['presence-offline', 'surface'],
  ['focus', 'rail'],
];

describe.each(Object.entries(themes))('the %s theme', (_name, colours) => {
  it.each(TEXT_PAIRS)('--%s on --%s reaches 4.5:1', (fg, bg) => {
    expect(contrast(colours[fg]!, colours[bg]!)).toBeGreaterThanOrEqual(4.5);
  });
  it.each(NON_TEXT_PAIRS)('--%s against --%s reaches 3:1', (fg, bg) => {
    expect(contrast(colours[fg]!, colours[bg]!)).toBeGreaterThanOrEqual(3);
  });
});
