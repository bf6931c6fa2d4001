/**
 * Words as the node's search sees them (duet-store `search.rs`): letters and digits (with their
 * marks and inner apostrophes or dots, "s'il", "3.14"), each folded: compatibility
 * decomposition, marks dropped, lower case. Used to mark the words a result was found by; the
 * node decides what is found.
 */

const WORD = /[\p{L}\p{N}\p{M}]+(?:['’.][\p{L}\p{N}\p{M}]+)*/gu;

/** One word folded: "Café" → "cafe". */
export function fold(word: string): string {
  return word.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/** The folded words of `text`, in order (repeats kept). */
export function textWords(text: string): string[] {
  return [...text.matchAll(WORD)].map((m) => fold(m[0])).filter((w) => w.length > 0);
}

/** The folded words of a query, without repeats. */
export function queryWords(query: string): string[] {
  return [...new Set(textWords(query))];
}

/** A piece of a message's text, and whether it is one of the words looked for. */
export interface Piece {
  text: string;
  hit: boolean;
}

/** `text` cut into pieces, the words of `wanted` (folded, as `queryWords` gives) marked. */
export function pieces(text: string, wanted: string[]): Piece[] {
  const out: Piece[] = [];
  const push = (part: string, hit: boolean) => {
    if (part.length === 0) return;
    const last = out[out.length - 1];
    if (last && last.hit === hit) last.text += part;
    else out.push({ text: part, hit });
  };
  let at = 0;
  for (const m of text.matchAll(WORD)) {
    const start = m.index ?? 0;
    push(text.slice(at, start), false);
    push(m[0], wanted.includes(fold(m[0])));
    at = start + m[0].length;
  }
  push(text.slice(at), false);
  return out;
}

/**
 * Around the first word found, at most `max` characters of `text`: a long message shows where it
 * matched, with "…" where it was cut.
 */
export function around(text: string, wanted: string[], max = 160): string {
  if (text.length <= max) return text;
  const first = [...text.matchAll(WORD)].find((m) => wanted.includes(fold(m[0])));
  const hit = first?.index ?? 0;
  const start = Math.max(0, Math.min(hit - Math.floor(max / 3), text.length - max));
  const end = Math.min(text.length, start + max);
  return `${start > 0 ? '…' : ''}${text.slice(start, end).trim()}${end < text.length ? '…' : ''}`;
}

/** The id a message written at `ms` would be below: messages before it are older than `ms`. */
export function idBefore(ms: number): string {
  return Math.max(0, Math.floor(ms)).toString(16).padStart(16, '0') + '0'.repeat(16);
}
