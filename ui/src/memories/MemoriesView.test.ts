import { clearMocks } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { transfers } from '../chat/attachments/transfers.svelte';
import type { Message } from '../lib/backend';
import { startNodeEvents } from '../lib/nodeEvents';
import { ME, PARTNER } from '../test/messages';
import { memoriesBook, PAGE } from './memories.svelte';
import MemoriesView from './MemoriesView.svelte';
import { fileAttachment, imageAttachment, memoriesNode, shared, videoAttachment, voiceAttachment } from './testing';

const TODAY = new Date(2026, 4, 12, 10, 30).getTime();
const PLANS = 'c1'.repeat(16);

let stops: (() => void)[] = [];
beforeEach(() => {
  transfers.clear();
  URL.createObjectURL = vi.fn(() => 'blob:duet-test');
});
afterEach(() => {
  for (const stop of stops) stop();
  stops = [];
  cleanup();
  memoriesBook.clear();
  clearMocks();
});

/** The gallery open, over a node holding `messages`. */
async function open(messages: Message[], events = false) {
  const node = memoriesNode();
  node.fake.hold(...messages);
  if (events) stops.push(await startNodeEvents());
  const onjump = vi.fn();
  const onclose = vi.fn();
  render(MemoriesView, {
    nameOf: (id: string) => (id === ME ? 'Maya' : 'Ben'),
    placeOf: (m: Message) => (m.channel ? 'in #plans' : 'with Ben'),
    onjump,
    onclose,
    today: () => TODAY,
  });
  await vi.waitFor(() => expect(memoriesBook.loaded).toBe(true));
  return { ...node, onjump, onclose };
}

const tiles = (root: HTMLElement = screen.getByTestId('memories')) => within(root).queryAllByTestId('memory-tile');
const months = () => screen.queryAllByTestId('memory-month');
const inMonth = (i: number) => tiles(months()[i]!);
const day = (d: number, m = 4, y = 2026, h = 12) => new Date(y, m, d, h).getTime();

describe('the Memories gallery', () => {
  it('shows photos, videos and voice notes newest first, by month; other files are not memories', async () => {
    const may = shared(day(3), [imageAttachment('beach.jpg')]);
    const mayLater = shared(day(9), [videoAttachment('waves.mp4')], { channel: PLANS, conversation: PLANS });
    const april = shared(day(28, 3), [voiceAttachment('hello.ogg', 7_400)], { sender: ME });
    const pdf = shared(day(10), [fileAttachment('tickets.pdf')]);
    const lastYear = shared(day(1, 11, 2025), [imageAttachment('snow.jpg')]);
    await open([april, pdf, may, lastYear, mayLater]);

    expect(months().map((m) => within(m).getByRole('heading').textContent)).toEqual(['May 2026', 'April 2026', 'December 2025']);
    expect(inMonth(0).map((t) => [t.dataset.messageId, t.dataset.kind])).toEqual([
      [mayLater.id, 'video'],
      [may.id, 'image'],
    ]);
    expect(inMonth(1).map((t) => t.dataset.kind)).toEqual(['voice']);
    expect(within(inMonth(1)[0]!).getByTestId('memory-duration')).toHaveTextContent('0:07');
    expect(within(inMonth(0)[0]!).getByTestId('memory-name')).toHaveTextContent('waves.mp4');
    expect(screen.queryByText('tickets.pdf')).not.toBeInTheDocument();
    // A photo not on this device yet is a placeholder.
    expect(within(inMonth(0)[1]!).getByTestId('memory-placeholder')).toBeInTheDocument();
    expect(within(inMonth(0)[0]!).getByTestId('memory-open')).toHaveAccessibleName(/^Video: waves\.mp4\. Ben, in #plans/);
    expect(screen.queryByTestId('memories-older')).not.toBeInTheDocument();
  });

  it('shows a photo’s thumbnail once it is here', async () => {
    const m = shared(day(3));
    const node = memoriesNode((cmd, a) => {
      if (cmd === 'blob_status') return { hash: a.hash, size: 10, have: 10 };
      if (cmd === 'read_blob') return new Uint8Array([1, 2, 3]).buffer;
      return undefined;
    });
    node.fake.hold(m);
    render(MemoriesView, { nameOf: () => 'Ben', placeOf: () => 'with Ben', onjump: vi.fn(), onclose: vi.fn(), today: () => TODAY });
    expect(await screen.findByTestId('memory-thumbnail')).toHaveAttribute('src', 'blob:duet-test');
    const thumb = (m.attachments[0]!.media as { image: { thumbnail: { blob: string } } }).image.thumbnail.blob;
    expect(node.argsOf('read_blob')).toEqual([{ hash: thumb }]);
  });

  it('says so when there is nothing yet', async () => {
    await open([shared(day(3), [fileAttachment()])]);
    expect(screen.getByTestId('memories-empty')).toHaveTextContent('No photos, videos or voice notes yet — what you two share shows here');
    expect(tiles()).toHaveLength(0);
    expect(screen.queryByTestId('on-this-day')).not.toBeInTheDocument();
  });

  it('loads older pages after the last one shown', async () => {
    const many = Array.from({ length: PAGE + 15 }, (_, i) => shared(day(1, 3) - i * 3_600_000));
    const { argsOf } = await open(many);
    expect(tiles()).toHaveLength(PAGE);
    expect(argsOf('memories')).toEqual([{ before: null, limit: PAGE }]);

    await fireEvent.click(screen.getByTestId('memories-older'));
    await vi.waitFor(() => expect(tiles()).toHaveLength(PAGE + 15));
    expect(argsOf('memories')[1]).toEqual({ before: many[PAGE - 1]!.id, limit: PAGE });
    expect(tiles().map((t) => t.dataset.messageId)).toEqual(many.map((m) => m.id));
    expect(screen.queryByTestId('memories-older')).not.toBeInTheDocument();
    expect(screen.getByText('That is all of them, back to the first one you shared.')).toBeInTheDocument();
  });

  it('shows On this day: this date in earlier years, from local midnight to midnight', async () => {
    const oneYear = shared(new Date(2025, 4, 12, 23, 59).getTime(), [imageAttachment('picnic.jpg')]);
    const threeYears = shared(new Date(2023, 4, 12, 0, 0).getTime(), [voiceAttachment('first.ogg')]);
    const dayAfter = shared(new Date(2025, 4, 13, 0, 0).getTime());
    const dayBefore = shared(new Date(2024, 4, 11, 23, 59).getTime());
    const today = shared(new Date(2026, 4, 12, 8, 0).getTime());
    const { argsOf } = await open([oneYear, threeYears, dayAfter, dayBefore, today]);

    const windows = argsOf('memories_in')[0]!.windows as { from: number; to: number }[];
    expect(windows).toHaveLength(99);
    expect(windows[0]).toEqual({ from: new Date(2025, 4, 12).getTime(), to: new Date(2025, 4, 13).getTime() });

    const section = screen.getByTestId('on-this-day');
    expect(within(section).getByRole('heading')).toHaveTextContent('On this day');
    expect(tiles(section).map((t) => t.dataset.messageId)).toEqual([oneYear.id, threeYears.id]);
    expect(within(section).getAllByTestId('memory-years').map((b) => b.textContent)).toEqual(['1 year ago', '3 years ago']);
  });

  it('shows no On this day without memories from this date', async () => {
    await open([shared(new Date(2025, 4, 13, 9).getTime())]);
    expect(tiles()).toHaveLength(1);
    expect(screen.queryByTestId('on-this-day')).not.toBeInTheDocument();
  });

  it('keeps a moment by pinning its message in its conversation, and lets it go', async () => {
    const direct = shared(day(3));
    const channel = shared(day(4), [imageAttachment()], { channel: PLANS, conversation: PLANS });
    const { argsOf, fake } = await open([direct, channel]);
    const tile = (id: string) => tiles().find((t) => t.dataset.messageId === id)!;

    await fireEvent.click(within(tile(channel.id)).getByTestId('memory-pin'));
    expect(tile(channel.id)).toHaveAttribute('data-pinned', 'true');
    expect(within(tile(channel.id)).getByTestId('memory-pin')).toHaveAttribute('aria-pressed', 'true');
    expect(argsOf('pin_message')).toEqual([{ target: { channel: PLANS }, id: channel.id, pinned: true }]);
    await vi.waitFor(() => expect(fake.pins.has(channel.id)).toBe(true));

    await fireEvent.click(within(tile(direct.id)).getByTestId('memory-pin'));
    expect(argsOf('pin_message')[1]).toEqual({ target: 'direct', id: direct.id, pinned: true });

    // Kept moments only.
    await vi.waitFor(() => expect(screen.getByTestId('memories-kept')).toHaveTextContent('Kept moments (2)'));
    await fireEvent.click(within(tile(direct.id)).getByTestId('memory-pin'));
    await vi.waitFor(() => expect(fake.pins.has(direct.id)).toBe(false));
    await fireEvent.click(screen.getByTestId('memories-kept'));
    expect(tiles().map((t) => t.dataset.messageId)).toEqual([channel.id]);
  });

  it('puts a moment back, with the node’s words, when it refuses', async () => {
    const m = shared(day(3), [imageAttachment('beach.jpg')]);
    const { fake } = await open([m]);
    fake.refuse = 'Only 50 messages can be pinned in a conversation.';
    const pin = within(tiles()[0]!).getByTestId('memory-pin');
    await fireEvent.click(pin);
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'This moment could not be kept (beach.jpg): Only 50 messages can be pinned in a conversation.',
    );
    expect(tiles()[0]).toHaveAttribute('data-pinned', 'false');
    expect(pin).toHaveAttribute('aria-pressed', 'false');
    expect(fake.pins.size).toBe(0);
  });

  it('jumps to the message from a tile', async () => {
    const m = shared(day(3));
    const { onjump } = await open([m]);
    await fireEvent.click(within(tiles()[0]!).getByTestId('memory-jump'));
    expect(onjump).toHaveBeenCalledWith(m);
  });

  it('opens full size; ←/→ move, Esc closes the view, then the gallery', async () => {
    const a = shared(day(9), [imageAttachment('a.jpg')]);
    const b = shared(day(8), [imageAttachment('b.jpg')]);
    const c = shared(day(7), [voiceAttachment('c.ogg')]);
    const { onclose, onjump, argsOf } = await open([a, b, c]);
    await fireEvent.click(within(tiles()[0]!).getByTestId('memory-open'));
    const viewer = () => screen.getByTestId('memory-viewer');
    expect(viewer()).toHaveAttribute('data-message-id', a.id);
    expect(screen.getByRole('dialog', { name: 'a.jpg' })).toBeInTheDocument();
    // Not here yet: asked for.
    await vi.waitFor(() => expect(argsOf('fetch_attachment')).toEqual([{ message: a.id, index: 0 }]));
    await vi.waitFor(() => expect(screen.getByTestId('memory-full')).toHaveAttribute('src', 'blob:duet-test'));

    await fireEvent.keyDown(window, { key: 'ArrowRight' });
    expect(viewer()).toHaveAttribute('data-message-id', b.id);
    await fireEvent.keyDown(window, { key: 'ArrowRight' });
    expect(viewer()).toHaveAttribute('data-message-id', c.id);
    expect(viewer()).toHaveTextContent('3 of 3');
    await fireEvent.keyDown(window, { key: 'ArrowRight' });
    expect(viewer()).toHaveAttribute('data-message-id', c.id);
    await fireEvent.keyDown(window, { key: 'ArrowLeft' });
    expect(viewer()).toHaveAttribute('data-message-id', b.id);

    await fireEvent.keyDown(screen.getByRole('dialog'), { key: 'Escape' });
    expect(screen.queryByTestId('memory-viewer')).not.toBeInTheDocument();
    expect(onclose).not.toHaveBeenCalled();

    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(onclose).toHaveBeenCalledTimes(1);

    // Jump from the full view.
    await fireEvent.click(within(tiles()[1]!).getByTestId('memory-open'));
    await fireEvent.click(within(viewer()).getByTestId('memory-jump'));
    expect(onjump).toHaveBeenCalledWith(b);
    expect(screen.queryByTestId('memory-viewer')).not.toBeInTheDocument();
  });

  it('keeps a moment from the full view', async () => {
    const m = shared(day(9));
    const { argsOf } = await open([m]);
    await fireEvent.click(within(tiles()[0]!).getByTestId('memory-open'));
    const pin = within(screen.getByTestId('memory-viewer')).getByTestId('memory-pin');
    expect(pin).toHaveTextContent('Keep this moment');
    await fireEvent.click(pin);
    expect(pin).toHaveAttribute('aria-pressed', 'true');
    expect(pin).toHaveTextContent('Kept');
    expect(argsOf('pin_message')).toEqual([{ target: 'direct', id: m.id, pinned: true }]);
  });

  it('shows a photo my partner sends, and a pin made elsewhere', async () => {
    const old = shared(day(1));
    const { fake } = await open([old], true);
    stops.push(memoriesBook.follow());
    const fresh = shared(day(12, 4, 2026, 9), [imageAttachment('new.jpg')], { sender: PARTNER });
    fake.arrive(fresh);
    await vi.waitFor(() => expect(tiles().map((t) => t.dataset.messageId)).toEqual([fresh.id, old.id]));

    fake.pinByPartner(old.id, true);
    await vi.waitFor(() => expect(tiles()[1]).toHaveAttribute('data-pinned', 'true'));
  });
});
