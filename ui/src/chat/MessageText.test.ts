import { render } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';

import MessageText from './MessageText.svelte';

/** Renders a text and gives the elements made for it (tag names, in order). */
function show(text: string) {
  const { container } = render(MessageText, { text });
  const tags = [...container.querySelectorAll('*')].map((e) => e.tagName.toLowerCase());
  return { container, tags };
}

/** The only elements a message's text may become. */
const MADE_HERE = new Set(['strong', 'em', 'code', 'pre', 'a']);

describe('a message’s text', () => {
  it('renders bold, italic, code and code blocks as elements, keeping the spaces and line breaks', () => {
    const { container, tags } = show('a **bold** and _italic_ `x`\nnext line\n```\nblock\n```\nend');
    expect(tags).toEqual(['strong', 'em', 'code', 'pre', 'code']);
    expect(container.querySelector('strong')).toHaveTextContent('bold');
    expect(container.querySelector('em')).toHaveTextContent('italic');
    expect(container.querySelector('pre')?.textContent).toBe('block');
    expect(container.textContent).toBe('a bold and italic x\nnext lineblockend');
  });

  it('makes a link that opens outside the app, its address in the tooltip', () => {
    const { container } = show('look https://example.com/café?x=1 now');
    const a = container.querySelector('a')!;
    expect(a).toHaveTextContent('https://example.com/café?x=1');
    expect(a).toHaveAttribute('href', 'https://example.com/caf%C3%A9?x=1');
    expect(a).toHaveAttribute('title', 'https://example.com/caf%C3%A9?x=1');
    expect(a).toHaveAttribute('target', '_blank');
    expect(a).toHaveAttribute('rel', 'noopener noreferrer');
  });

  it.each([
    '<script>alert(1)</script>',
    '<img src=x onerror="alert(1)">',
    '**<img src=x onerror=alert(1)>**',
    '`<script>alert(1)</script>`',
    '```\n<iframe src="javascript:alert(1)"></iframe>\n```',
    '<a href="javascript:alert(1)">click</a>',
    '[click](javascript:alert(1)) javascript:alert(1)',
    'https://example.com/"><svg onload=alert(1)>',
    '<style>*{display:none}</style>_x_',
    '**_`*_**_`',
    '*'.repeat(2000),
    '<b>'.repeat(666),
    '**a** <i>'.repeat(200),
  ])('makes no element of the text itself: %j', (input) => {
    const { container, tags } = show(input);
    expect(tags.every((t) => MADE_HERE.has(t)), tags.join(' ')).toBe(true);
    expect(container.querySelector('script, img, iframe, svg, style, b, i')).toBeNull();
    for (const a of container.querySelectorAll('a')) expect(a.getAttribute('href')).toMatch(/^https?:\/\//);
    for (const e of container.querySelectorAll('*')) {
      expect([...e.attributes].map((x) => x.name).filter((n) => n.startsWith('on'))).toEqual([]);
    }
  });

  it('shows markup as the text it is', () => {
    const { container } = show('<img src=x onerror="alert(1)"> & <b>hi</b>');
    expect(container.textContent).toBe('<img src=x onerror="alert(1)"> & <b>hi</b>');
  });
});
