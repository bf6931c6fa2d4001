/**
 * A message's light formatting, read into tokens that `chat/MessageText.svelte` renders as
 * Svelte elements (never as HTML): `**bold**`, `*italic*` or `_italic_`, `` `code` ``, fenced
 * ``` code blocks ```, and http(s) links. Whatever does not read as one of these (an unclosed
 * marker, `snake_case`, `2 * 3`) stays the text it was. Code shows its content literally: no
 * formatting and no links inside. Bold and italic nest (`**_both_**`) a few levels deep; deeper
 * markers stay literal.
 */

export type Inline =
  | { kind: 'text'; text: string }
  | { kind: 'strong'; children: Inline[] }
  | { kind: 'em'; children: Inline[] }
  | { kind: 'code'; text: string }
  | { kind: 'link'; href: string; text: string };

export type Block =
  | { kind: 'inline'; content: Inline[] }
  | { kind: 'codeblock'; text: string; lang: string | null };

/** How deep bold and italic nest; past it their markers stay literal. */
const MAX_DEPTH = 4;
const FENCE = '```';
/** A fence's first line read as the code's language (```ts). */
const LANG = /^[\w+#.-]{1,20}$/;

/** Reads a message's text into blocks: code blocks between fences, and formatted text. */
export function formatMessage(text: string): Block[] {
  const blocks: Block[] = [];
  let pending = '';
  const flush = () => {
    if (pending !== '') blocks.push({ kind: 'inline', content: formatInline(pending) });
    pending = '';
  };
  let from = 0;
  for (;;) {
    const open = text.indexOf(FENCE, from);
    if (open < 0) break;
    const close = text.indexOf(FENCE, open + FENCE.length);
    if (close < 0) break;
    let body = text.slice(open + FENCE.length, close);
    let lang: string | null = null;
    const newline = body.indexOf('\n');
    if (newline >= 0) {
      const first = body.slice(0, newline).trim();
      if (first === '' || LANG.test(first)) {
        lang = first || null;
        body = body.slice(newline + 1);
      }
    }
    if (body.endsWith('\n')) body = body.slice(0, -1);
    if (body.trim() === '') {
      // An empty pair of fences is no block: it stays text.
      pending += text.slice(from, close + FENCE.length);
      from = close + FENCE.length;
      continue;
    }
    // The line breaks around a block belong to the block.
    pending += text.slice(from, text[open - 1] === '\n' ? Math.max(from, open - 1) : open);
    flush();
    blocks.push({ kind: 'codeblock', text: body, lang });
    from = close + FENCE.length;
    if (text[from] === '\n') from += 1;
  }
  pending += text.slice(from);
  flush();
  return blocks;
}

/** Reads one stretch of text (no code blocks) into inline tokens. */
export function formatInline(text: string): Inline[] {
  const code = codeSpans(text);
  const atoms = new Map<number, Atom>();
  for (const atom of [...code, ...links(text, code)]) atoms.set(atom.start, atom);
  return emphasis(text, 0, text.length, atoms, 0);
}

/** The words without their formatting: bold, italic and code as plain text, links as written. */
export function plainText(blocks: readonly Block[]): string {
  return blocks.map((b) => (b.kind === 'codeblock' ? b.text : plainOf(b.content))).join('\n');
}

function plainOf(content: readonly Inline[]): string {
  return content
    .map((t) => (t.kind === 'strong' || t.kind === 'em' ? plainOf(t.children) : t.text))
    .join('');
}

/** A piece read before the emphasis: a code span or a link, kept whole. */
interface Atom {
  start: number;
  end: number;
  token: Inline;
}

/** `code`: single backticks (a run of two or more stays literal), on one line, not empty. */
function codeSpans(text: string): Atom[] {
  const spans: Atom[] = [];
  const single = (i: number) => text[i] === '`' && text[i - 1] !== '`' && text[i + 1] !== '`';
  let i = 0;
  while (i < text.length) {
    if (!single(i)) {
      i += 1;
      continue;
    }
    let j = i + 1;
    while (j < text.length && text[j] !== '\n' && !single(j)) j += 1;
    if (j < text.length && single(j) && j > i + 1) {
      spans.push({ start: i, end: j + 1, token: { kind: 'code', text: text.slice(i + 1, j) } });
      i = j + 1;
    } else i = j;
  }
  return spans;
}

const URL_START = /https?:\/\//gi;
const URL_CHARS = /[^\s<>"`]+/y;
const TRAILING = '.,:;!?\'"*_~';

/**
 * http(s) links written out in full, outside code spans and not glued to a word before them.
 * Trailing punctuation is left out (an unbalanced closing bracket too), and what `URL` does
 * not accept is no link.
 */
function links(text: string, code: readonly Atom[]): Atom[] {
  const found: Atom[] = [];
  let after = 0;
  for (const start of text.matchAll(URL_START)) {
    const i = start.index;
    if (i < after || WORD.test(text[i - 1] ?? '') || code.some((c) => i >= c.start && i < c.end)) continue;
    URL_CHARS.lastIndex = i + start[0].length;
    if (!URL_CHARS.exec(text)) continue;
    let url = text.slice(i, URL_CHARS.lastIndex);
    for (;;) {
      const last = url.at(-1) ?? '';
      if (TRAILING.includes(last)) url = url.slice(0, -1);
      else if (last === ')' && count(url, ')') > count(url, '(')) url = url.slice(0, -1);
      else if (last === ']' && count(url, ']') > count(url, '[')) url = url.slice(0, -1);
      else break;
    }
    const href = safeHref(url);
    if (!href) continue;
    found.push({ start: i, end: i + url.length, token: { kind: 'link', href, text: url } });
    after = i + url.length;
  }
  return found;
}

function count(s: string, c: string): number {
  let n = 0;
  for (const x of s) if (x === c) n += 1;
  return n;
}

/** The address a link may point at: only http and https, with a host. */
export function safeHref(url: string): string | null {
  try {
    const parsed = new URL(url);
    if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '') return null;
    return parsed.href;
  } catch {
    return null;
  }
}

const SPACE = /\s/u;
const WORD = /[\p{L}\p{N}]/u;
const isSpace = (c: string | undefined) => c === undefined || SPACE.test(c);
const isWord = (c: string | undefined) => c !== undefined && WORD.test(c);

/** The length of the run of `c` starting at `i`, not past `to`. */
function runAt(text: string, i: number, to: number, c: string): number {
  let j = i;
  while (j < to && text[j] === c) j += 1;
  return j - i;
}

/**
 * Bold and italic over text[from, to), keeping the atoms whole: an opener is followed by a
 * non-space, its closer (on the same line) preceded by one; `_` only at a word's edges, alone.
 */
function emphasis(text: string, from: number, to: number, atoms: Map<number, Atom>, depth: number): Inline[] {
  const out: Inline[] = [];
  let plain = '';
  const flush = () => {
    if (plain !== '') out.push({ kind: 'text', text: plain });
    plain = '';
  };
  let i = from;
  while (i < to) {
    const atom = atoms.get(i);
    if (atom && atom.end <= to) {
      flush();
      out.push(atom.token);
      i = atom.end;
      continue;
    }
    const c = text[i]!;
    if ((c === '*' || c === '_') && depth < MAX_DEPTH) {
      const match = c === '*' ? star(text, i, to, atoms) : underscore(text, i, to, atoms);
      if (match) {
        flush();
        const children = emphasis(text, i + match.width, match.close, atoms, depth + 1);
        out.push(match.width === 2 ? { kind: 'strong', children } : { kind: 'em', children });
        i = match.close + match.width;
        continue;
      }
    }
    plain += c;
    i += 1;
  }
  flush();
  return out;
}

interface Match {
  /** 2 for bold, 1 for italic. */
  width: number;
  /** Where the closing marker starts. */
  close: number;
}

function star(text: string, i: number, to: number, atoms: Map<number, Atom>): Match | null {
  const run = runAt(text, i, to, '*');
  const width = run >= 2 ? 2 : 1;
  if (isSpace(text[i + width]) || i + width >= to) return null;
  let j = i + width;
  while (j < to && text[j] !== '\n') {
    const atom = atoms.get(j);
    if (atom) {
      j = atom.end;
      continue;
    }
    if (text[j] !== '*') {
      j += 1;
      continue;
    }
    const len = runAt(text, j, to, '*');
    const fits = width === 2 ? len >= 2 : len !== 2;
    const close = j + len - width;
    if (fits && !isSpace(text[j - 1]) && close > i + width) return { width, close };
    j += len;
  }
  return null;
}

function underscore(text: string, i: number, to: number, atoms: Map<number, Atom>): Match | null {
  if (text[i + 1] === '_' || text[i - 1] === '_' || isWord(text[i - 1]) || isSpace(text[i + 1]) || i + 1 >= to) {
    return null;
  }
  let j = i + 1;
  while (j < to && text[j] !== '\n') {
    const atom = atoms.get(j);
    if (atom) {
      j = atom.end;
      continue;
    }
    if (text[j] === '_') {
      const len = runAt(text, j, to, '_');
      if (len === 1 && !isSpace(text[j - 1]) && !isWord(text[j + 1]) && j > i + 1) return { width: 1, close: j };
      j += len;
    } else j += 1;
  }
  return null;
}
