/**
 * WCAG AA for both themes, recomputed from app.css itself: text pairs need 4.5:1, the focus
 * ring and the marks 3:1 (non-text contrast).
 */
import { describe, expect, it } from 'vitest';

import css from '../app.css?raw';

type Palette = Record<string, string>;

/** A colour with a value per theme: `--name: var(--dark, #light) var(--light, #dark);`. */
const PAIR = /--([\w-]+):\s*var\(--dark,\s*(#[0-9a-f]{6})\)\s*var\(--light,\s*(#[0-9a-f]{6})\)\s*;/gi;
/** A colour the same in both themes: `--name: #hex;`. */
const BOTH = /--([\w-]+):\s*(#[0-9a-f]{6})\s*;/gi;

/** Both palettes from app.css, where each colour is written once (see the comment at its top). */
function palettes(text: string): { light: Palette; dark: Palette } {
  const light: Palette = {};
  const dark: Palette = {};
  for (const [, name, l, d] of text.matchAll(PAIR)) {
    light[name!] = l!;
    dark[name!] = d!;
  }
  for (const [, name, both] of text.matchAll(BOTH)) {
    light[name!] = both!;
    dark[name!] = both!;
  }
  return { light, dark };
}

/** app.css without its comments (which quote the forms above). */
const bare = css.replace(/\/\*[\s\S]*?\*\//g, '');
const themes: Record<string, Palette> = palettes(bare);

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

describe('how app.css picks the palette', () => {
  it('writes each colour once, in a form the contrast checks above read', () => {
    const declared = [...bare.matchAll(/(--[\w-]+):\s*([^;]*#[0-9a-f]{3,8}[^;]*);/gi)].map(([, name]) => name!);
    expect(new Set(declared).size, 'a colour is declared twice (a second palette block?)').toBe(declared.length);
    const read = [...bare.matchAll(PAIR), ...bare.matchAll(BOTH)].length;
    expect(read, 'a colour is written in a form palettes() does not read').toBe(declared.length);
    for (const [fg, bg] of [...TEXT_PAIRS, ...NON_TEXT_PAIRS]) {
      for (const name of [fg, bg]) {
        expect(themes.light![name], `--${name} (light)`).toMatch(/^#/);
        expect(themes.dark![name], `--${name} (dark)`).toMatch(/^#/);
      }
    }
  });

  it('turns dark on where data-theme is "dark", and where it is not "light" on a dark system', () => {
    const on = /\{\s*--light:\s*initial;\s*--dark:\s*;\s*color-scheme:\s*dark;\s*\}/;
    const rules = [...bare.matchAll(new RegExp(`([^{}]*)${on.source}`, 'g'))].map(([, selector]) => selector!.trim());
    expect(rules).toEqual([":root[data-theme='dark']", ":root:not([data-theme='light'])"]);
    const media = bare.slice(0, bare.indexOf(":root:not([data-theme='light'])"));
    expect(media.trimEnd().endsWith('@media (prefers-color-scheme: dark) {')).toBe(true);
    expect(bare).toMatch(/:root\s*\{\s*--light:\s*;\s*--dark:\s*initial;\s*color-scheme:\s*light;/);
  });
});
