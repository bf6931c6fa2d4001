import { formats, t } from './i18n/index.svelte';

/**
 * Message text rules as the node applies them (duet-model `validate_content`): trimmed,
 * 1..=2000 characters, counted in Unicode scalar values so an emoji counts once.
 */
export const MAX_CONTENT_CHARS = 2000;
/** The counter appears from here on. */
export const COUNTER_FROM = 1800;

/** Characters the node will count for this text. */
export function contentLength(text: string): number {
  let n = 0;
  for (const _ of text.trim()) n++;
  return n;
}

/** The first `max` characters (scalar values) of a text, with an ellipsis when cut. */
export function excerpt(text: string, max = 80): string {
  const chars = Array.from(text.replace(/\s+/g, ' ').trim());
  return chars.length <= max ? chars.join('') : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * Words from the shell about devices end without a full stop (duet-call joins clauses with
 * them: "No camera found: the call goes on with sound only"); shown alone they get one.
 */
export function sentence(words: string): string {
  const trimmed = words.trim();
  return /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

/** "2.4 MB", "830 KB", "12 bytes". */
export function fileSize(bytes: number): string {
  if (bytes < 1000) return t('lib.size.bytes', { count: bytes });
  const units = ['kb', 'mb', 'gb'] as const;
  let v = bytes / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u += 1;
  }
  // Rounded as before (one decimal under 10), then written the language's way ("2,4" in French).
  const rounded = v < 10 ? Number(v.toFixed(1)) : Math.round(v);
  const digits = v < 10 ? 1 : 0;
  const size = formats().number(rounded, digits, false);
  return t(`lib.size.${units[u]!}`, { size });
}
