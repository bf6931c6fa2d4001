/**
 * The windowed list, in jsdom: no layout, so rows keep their estimated heights and the
 * viewport's height is given here (600 px).
 */
import { fireEvent, render } from '@testing-library/svelte';
import { createRawSnippet } from 'svelte';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import VirtualList from './VirtualList.svelte';

interface Item {
  id: string;
  text: string;
}

const ROW = 50;
const VIEW = 600;

const row = createRawSnippet((item: () => Item) => ({
  render: () => `<p class="row-text">${item().text}</p>`,
}));

const items = (from: number, to: number): Item[] =>
  Array.from({ length: to - from }, (_, i) => ({ id: `m${from + i}`, text: `message ${from + i}` }));

let restore: PropertyDescriptor | undefined;
beforeAll(() => {
  restore = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientHeight');
  Object.defineProperty(HTMLElement.prototype, 'clientHeight', {
    configurable: true,
    get(this: HTMLElement) {
      return this.classList.contains('viewport') ? VIEW : 0;
    },
  });
});
afterAll(() => {
  if (restore) Object.defineProperty(HTMLElement.prototype, 'clientHeight', restore);
});

function setup(list: Item[], onneartop = vi.fn()) {
  const view = render(VirtualList<Item>, {
    items: list,
    key: (i: Item) => i.id,
    row,
    estimate: () => ROW,
    overscan: 200,
    nearTop: 300,
    onneartop,
    label: 'Messages',
  });
  const viewport = view.getByRole('region', { name: 'Messages' });
  const texts = () => [...view.container.querySelectorAll('.row-text')].map((e) => e.textContent);
  const scrollTo = async (top: number) => {
    viewport.scrollTop = top;
    await fireEvent.scroll(viewport);
  };
  return { ...view, viewport, texts, scrollTo, onneartop };
}

describe('the virtual list', () => {
  it('renders a bounded number of rows for 10,000 messages, starting at the newest', async () => {
    const { texts, viewport } = setup(items(0, 10_000));
    await Promise.resolve();
    const shown = texts();
    // 600 px of view and 200 px of overscan each side, 50 px a row: about 20 rows.
    expect(shown.length).toBeGreaterThan(10);
    expect(shown.length).toBeLessThanOrEqual(24);
    expect(shown.at(-1)).toBe('message 9999');
    expect(viewport.scrollTop).toBe(10_000 * ROW - VIEW);
  });

  it('mounts only the newest rows when a first page arrives, not the oldest ones first', async () => {
    const mounted: string[] = [];
    const counted = createRawSnippet((item: () => Item) => ({
      render: () => {
        mounted.push(item().text);
        return `<p class="row-text">${item().text}</p>`;
      },
    }));
    // A conversation opens on its start row alone, then its first page comes.
    const view = render(VirtualList<Item>, {
      items: items(0, 1),
      key: (i: Item) => i.id,
      row: counted,
      estimate: () => ROW,
      overscan: 200,
      label: 'Messages',
    });
    mounted.length = 0;
    await view.rerender({ items: items(0, 50) });
    expect(mounted.at(-1)).toBe('message 49');
    expect(mounted).not.toContain('message 0');
    // 600 px of view and 200 px of overscan above: 16 rows of 50 px.
    expect(mounted.length).toBeLessThanOrEqual(16);
  });

  it('renders the rows of wherever it is scrolled to', async () => {
    const { texts, scrollTo } = setup(items(0, 10_000));
    await scrollTo(5000 * ROW);
    expect(texts()).toContain('message 5000');
    expect(texts()).not.toContain('message 9999');
    expect(texts().length).toBeLessThanOrEqual(24);
  });

  it('asks for older pages near the top, not at the bottom', async () => {
    const { scrollTo, onneartop } = setup(items(0, 200));
    expect(onneartop).not.toHaveBeenCalled();
    await scrollTo(1000);
    expect(onneartop).not.toHaveBeenCalled();
    await scrollTo(100);
    expect(onneartop).toHaveBeenCalled();
  });

  it('keeps the reader’s place when older rows are prepended', async () => {
    const { scrollTo, rerender, viewport, texts } = setup(items(100, 300));
    await scrollTo(2000);
    const before = texts();
    await rerender({ items: items(50, 300) });
    expect(viewport.scrollTop).toBe(2000 + 50 * ROW);
    expect(texts()).toEqual(before);
  });

  it('follows new rows at the bottom, and stays put when scrolled up', async () => {
    const { scrollTo, rerender, viewport } = setup(items(0, 100));
    await rerender({ items: items(0, 101) });
    expect(viewport.scrollTop).toBe(101 * ROW - VIEW);
    await scrollTo(1000);
    await rerender({ items: items(0, 102) });
    expect(viewport.scrollTop).toBe(1000);
  });

  it('puts a short history at the bottom of the view and asks for more', async () => {
    const { container, onneartop } = setup(items(0, 3));
    await Promise.resolve();
    const windowEl = container.querySelector<HTMLElement>('.window')!;
    expect(windowEl.style.top).toBe(`${VIEW - 3 * ROW}px`);
    expect(onneartop).toHaveBeenCalled();
  });
});
