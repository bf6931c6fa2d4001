import { describe, expect, it } from 'vitest';

import { formatInline, formatMessage, plainText, safeHref, type Block, type Inline } from './format';

const text = (t: string): Inline => ({ kind: 'text', text: t });
const strong = (...children: Inline[]): Inline => ({ kind: 'strong', children });
const em = (...children: Inline[]): Inline => ({ kind: 'em', children });
const code = (t: string): Inline => ({ kind: 'code', text: t });
const link = (t: string, href = t): Inline => ({ kind: 'link', href, text: t });

/** The text without markers, fences and white space: what formatting may never lose. */
const bare = (s: string) => s.replace(/[*_`\s]/g, '');
const flatten = (blocks: Block[]) =>
  blocks.map((b) => (b.kind === 'codeblock' ? (b.lang ?? '') + b.text : plainText([b]))).join('');

describe('message formatting', () => {
  it.each<[string, Inline[]]>([
    ['plain words', [text('plain words')]],
    ['a **bold** word', [text('a '), strong(text('bold')), text(' word')]],
    ['an _italic_ word', [text('an '), em(text('italic')), text(' word')]],
    ['an *italic* word', [text('an '), em(text('italic')), text(' word')]],
    ['run `npm test` now', [text('run '), code('npm test'), text(' now')]],
    ['**bold _and italic_**', [strong(text('bold '), em(text('and italic')))]],
    ['_italic **and bold**_', [em(text('italic '), strong(text('and bold')))]],
    ['***both***', [strong(em(text('both')))]],
    ['*a **b** c*', [em(text('a '), strong(text('b')), text(' c'))]],
  ])('reads %j', (input, tokens) => {
    expect(formatInline(input)).toEqual(tokens);
  });

  it.each([
    '**unclosed bold',
    'unclosed *italic',
    '_unclosed italic',
    'a ` lone backtick',
    'snake_case_name and __init__',
    '2 * 3 * 4 = 24',
    '** not bold **',
    '* not italic *',
    'a **\nb**',
    '``double`` backticks',
    '****',
    '__',
    '```unclosed fence',
  ])('leaves %j literal', (input) => {
    expect(formatMessage(input)).toEqual([{ kind: 'inline', content: [text(input)] }]);
  });

  it('shows code literally: no formatting or links inside', () => {
    expect(formatInline('`**x** _y_ https://example.com <b>`')).toEqual([code('**x** _y_ https://example.com <b>')]);
    expect(formatInline('**a `b** c`')).toEqual([text('**a '), code('b** c')]);
  });

  it('reads fenced code blocks, with the language and without the line breaks around them', () => {
    expect(formatMessage('look:\n```ts\nconst a = **1**;\n```\nthanks')).toEqual([
      { kind: 'inline', content: [text('look:')] },
      { kind: 'codeblock', text: 'const a = **1**;', lang: 'ts' },
      { kind: 'inline', content: [text('thanks')] },
    ]);
    expect(formatMessage('```\n  indented\n\n  two lines\n```')).toEqual([
      { kind: 'codeblock', text: '  indented\n\n  two lines', lang: null },
    ]);
    expect(formatMessage('a ```inline block``` b')).toEqual([
      { kind: 'inline', content: [text('a ')] },
      { kind: 'codeblock', text: 'inline block', lang: null },
      { kind: 'inline', content: [text(' b')] },
    ]);
    expect(formatMessage('``````')).toEqual([{ kind: 'inline', content: [text('``````')] }]);
  });

  it('finds links, leaving out the punctuation after them', () => {
    expect(formatInline('see https://example.com/a?b=1&c=2#top.')).toEqual([
      text('see '),
      link('https://example.com/a?b=1&c=2#top'),
      text('.'),
    ]);
    expect(formatInline('(https://en.wikipedia.org/wiki/Pie_(film))')).toEqual([
      text('('),
      link('https://en.wikipedia.org/wiki/Pie_(film)'),
      text(')'),
    ]);
    expect(formatInline('**https://example.com**')).toEqual([strong(link('https://example.com', 'https://example.com/'))]);
    expect(formatInline('https://example.com/snake_case_path')).toEqual([link('https://example.com/snake_case_path')]);
    expect(formatInline('HTTP://Example.COM/x')).toEqual([link('HTTP://Example.COM/x', 'http://example.com/x')]);
  });

  it('links only http and https, never scripts, data or other schemes', () => {
    for (const input of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(document.cookie)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      '[click](javascript:alert(1))',
      'xhttps://glued.example',
      'https://',
      'https://.',
    ]) {
      const tokens = formatInline(input);
      expect(tokens.filter((t) => t.kind === 'link'), input).toEqual([]);
    }
    expect(safeHref('javascript:alert(1)')).toBeNull();
    expect(safeHref('https://example.com/"><img src=x onerror=alert(1)>')).toBe(
      'https://example.com/%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E',
    );
  });

  it('keeps markup as text', () => {
    for (const input of ['<script>alert(1)</script>', '<img src=x onerror="alert(1)">', '&lt;b&gt; &amp;', '<a href="https://example.com">x</a>']) {
      expect(plainText(formatMessage(input))).toBe(input);
    }
    // A link stops at a quote or an angle bracket: nothing of the markup gets into it.
    expect(formatInline('<a href="https://evil.example/x">')).toEqual([
      text('<a href="'),
      link('https://evil.example/x'),
      text('">'),
    ]);
  });

  it('never loses a word, whatever the input, 2,000 characters of markers included', () => {
    const pieces = ['*', '**', '_', '`', '```', 'a', ' ', '\n', 'https://x.example/', 'é', '💛', '<b>', '(', ')'];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let round = 0; round < 200; round++) {
      let input = '';
      while (input.length < 200) input += pieces[Math.floor(random() * pieces.length)];
      expect(bare(flatten(formatMessage(input))), input).toBe(bare(input));
    }
    for (const input of [
      '*'.repeat(2000),
      '_a'.repeat(1000),
      '*a '.repeat(666),
      '**a'.repeat(666),
      '`'.repeat(2000),
      'https://x.example/'.repeat(110),
      '***'.repeat(666),
      '_*'.repeat(1000),
    ]) {
      const blocks = formatMessage(input);
      expect(bare(flatten(blocks))).toBe(bare(input));
    }
  });
});
