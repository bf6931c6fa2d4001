import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import type { Attachment, PeerInfo } from '../../lib/backend';
import { language } from '../../lib/i18n/index.svelte';
import { deviceLinks } from '../../lib/links.svelte';
import { session } from '../../lib/session.svelte';
import { ME, PARTNER, peer } from '../../test/messages';
import AttachmentView from './AttachmentView.svelte';
import { fileSize, transfers } from './transfers.svelte';

const IMAGE = '11'.repeat(32);
const THUMB = '22'.repeat(32);
const FILE = '33'.repeat(32);
const VOICE = '44'.repeat(32);
const MESSAGE = '0'.repeat(32);

const image: Attachment = {
  type: 'image',
  blob: IMAGE,
  url: `duet://blob/${IMAGE}`,
  name: 'beach.jpg',
  size: 2_400_000,
  media: { image: { width: 1600, height: 1200, thumbnail: { blob: THUMB, url: `duet://blob/${THUMB}`, size: 9000, width: 320, height: 240 } } },
};
const file: Attachment = { type: 'file', blob: FILE, url: `duet://blob/${FILE}`, name: 'tickets.pdf', size: 830_000, media: null };
const voice: Attachment = {
  type: 'audio',
  blob: VOICE,
  url: `duet://blob/${VOICE}`,
  name: 'voice-1.ogg',
  size: 12_000,
  media: { voice: { duration_ms: 7_400, waveform: [10, 200, 120, 255, 40] } },
};

const MY_DEVICE = 'a0'.repeat(32);
const ADA_DEVICE = 'b0'.repeat(32);

let complete: Set<string>;
let seen: [string, unknown][];
let peers: PeerInfo[];

beforeEach(() => {
  complete = new Set();
  seen = [];
  peers = [];
  transfers.clear();
  deviceLinks.clear();
  URL.createObjectURL = vi.fn(() => 'blob:duet-test');
  mockIPC((cmd, args) => {
    const a = args as { hash?: string };
    seen.push([cmd, args]);
    switch (cmd) {
      case 'blob_status':
        return complete.has(a.hash!) ? { hash: a.hash, size: 10, have: 10 } : null;
      case 'read_blob':
        return new Uint8Array([1, 2, 3]).buffer;
      case 'save_attachment':
        return '/home/maya/Downloads/tickets.pdf';
      case 'fetch_attachment':
        return image;
      case 'peers':
        return peers;
      default:
        return null;
    }
  });
});
afterEach(() => {
  cleanup();
  clearMocks();
  session.set({ device_id: null, profile: null, partner: null, paired: false, catching_up: false });
  language.choose('system');
});

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('an attachment', () => {
  it('shows an image as its thumbnail once the thumbnail is here, and the full image on click', async () => {
    render(AttachmentView, { attachment: image, message: MESSAGE, index: 0, mine: false });
    expect(screen.getByText('Loading preview…')).toBeInTheDocument();
    transfers.handle({ event: 'blob_complete', blob: THUMB });
    const thumb = await screen.findByTestId('attachment-thumbnail');
    expect(thumb).toHaveAttribute('src', 'blob:duet-test');
    expect(seen).toContainEqual(['read_blob', { hash: THUMB }]);

    // The full image is not here yet: a click fetches it, then shows it.
    await fireEvent.click(screen.getByTestId('attachment-image'));
    expect(await screen.findByTestId('attachment-full')).toBeInTheDocument();
    expect(seen).toContainEqual(['fetch_attachment', { message: MESSAGE, index: 0 }]);
    expect(seen).toContainEqual(['read_blob', { hash: IMAGE }]);
  });

  it('shows a progress bar while it arrives, and the reason when it fails', async () => {
    render(AttachmentView, { attachment: file, message: MESSAGE, index: 0, mine: false });
    transfers.handle({ event: 'blob_progress', blob: FILE, done: 415_000, total: 830_000 });
    const bar = await screen.findByTestId('attachment-progress');
    expect(bar).toHaveTextContent('50% · 415 KB of 830 KB');
    expect(screen.getByRole('progressbar', { name: 'Receiving tickets.pdf' })).toHaveAttribute('value', '50');
    transfers.handle({ event: 'blob_failed', blob: FILE, reason: 'no device that has it is online' });
    expect(await screen.findByRole('alert')).toHaveTextContent('tickets.pdf could not be fetched: no device that has it is online');
    expect(screen.queryByTestId('attachment-progress')).not.toBeInTheDocument();
  });

  it('says an attachment that is not here yet will come, on the code and not the words', async () => {
    mockIPC(() => {
      throw { code: 'blob_not_here', message: 'Some words the node chose.' };
    });
    const reason = await transfers.fetch(MESSAGE, 1, FILE, 830_000);
    expect(reason).toBe('Not on this device yet: it comes as soon as a device that has it is online.');
    mockIPC(() => {
      throw { code: 'unreadable_file', message: 'Cannot read /tmp/x: gone.' };
    });
    expect(await transfers.fetch(MESSAGE, 1, FILE, 830_000)).toBe('Cannot read /tmp/x: gone.');
  });

  it('shows the sender how much my partner has taken', async () => {
    complete.add(FILE);
    render(AttachmentView, { attachment: file, message: MESSAGE, index: 0, mine: true });
    transfers.handle({ event: 'blob_served', blob: FILE, device: 'b0'.repeat(32), done: 207_500, total: 830_000 });
    expect(await screen.findByTestId('attachment-progress')).toHaveTextContent('Sending · 25%');
  });

  it('shows a file as a card with its name and size, and saves it to Downloads', async () => {
    complete.add(FILE);
    render(AttachmentView, { attachment: file, message: MESSAGE, index: 0, mine: false });
    expect(screen.getByTestId('attachment-name')).toHaveTextContent('tickets.pdf');
    expect(screen.getByTestId('attachment-file')).toHaveTextContent('830 KB');
    await fireEvent.click(await screen.findByTestId('attachment-save'));
    expect(await screen.findByRole('status')).toHaveTextContent('Saved to /home/maya/Downloads/tickets.pdf');
    expect(seen).toContainEqual(['save_attachment', { message: MESSAGE, index: 0 }]);
  });

  it('shows a voice note with its waveform and length, playable once here', async () => {
    render(AttachmentView, { attachment: voice, message: MESSAGE, index: 0, mine: false });
    expect(screen.getByTestId('voice-duration')).toHaveTextContent('0:07');
    const bars = screen.getByTestId('voice-waveform').querySelectorAll('.bar');
    expect(bars).toHaveLength(5);
    expect((bars[3] as HTMLElement).style.height).toBe('100%');
    expect(screen.getByTestId('voice-play')).toBeDisabled();
    transfers.handle({ event: 'blob_complete', blob: VOICE });
    await tick();
    expect(screen.getByTestId('voice-play')).toBeEnabled();
    expect(screen.getByTestId('voice-play')).toHaveAccessibleName('Play the voice message, 0:07');
  });
});

describe('an attachment no connected device can send', () => {
  beforeEach(async () => {
    session.set({
      device_id: MY_DEVICE,
      profile: { id: ME, display_name: 'Maya', avatar: null, devices: [MY_DEVICE] },
      partner: { id: PARTNER, display_name: 'Ada', avatar: null, devices: [ADA_DEVICE] },
      paired: true,
      catching_up: false,
    });
    // `peers` lists this device too; it cannot send what it lacks, so it does not count.
    peers = [peer(MY_DEVICE, ME, true, true), peer(ADA_DEVICE, PARTNER, false, false)];
    await deviceLinks.load();
  });

  it('says it waits for my partner, and shows the progress once her device is connected', async () => {
    render(AttachmentView, { attachment: file, message: MESSAGE, index: 0, mine: false });
    transfers.handle({ event: 'blob_progress', blob: FILE, done: 0, total: 830_000 });
    expect(await screen.findByTestId('attachment-waiting')).toHaveTextContent('Waiting for Ada to come online…');
    expect(screen.queryByTestId('attachment-progress')).not.toBeInTheDocument();

    deviceLinks.set(ADA_DEVICE, true);
    transfers.handle({ event: 'blob_progress', blob: FILE, done: 415_000, total: 830_000 });
    expect(await screen.findByTestId('attachment-progress')).toHaveTextContent('50% · 415 KB of 830 KB');
    expect(screen.queryByTestId('attachment-waiting')).not.toBeInTheDocument();

    // She goes away halfway: the words come back, with what is here so far.
    deviceLinks.set(ADA_DEVICE, false);
    expect(await screen.findByTestId('attachment-waiting')).toHaveTextContent(
      'Waiting for Ada to come online… (415 KB of 830 KB here)',
    );
    expect(screen.queryByTestId('attachment-progress')).not.toBeInTheDocument();
  });

  it('says the preview waits for my partner too, and loads it once she is connected', async () => {
    render(AttachmentView, { attachment: image, message: MESSAGE, index: 0, mine: false });
    expect(await screen.findByTestId('attachment-preview-waiting')).toHaveTextContent('Waiting for Ada to come online…');
    deviceLinks.set(ADA_DEVICE, true);
    await tick();
    expect(screen.getByTestId('attachment-preview-waiting')).toHaveTextContent('Loading preview…');
    transfers.handle({ event: 'blob_complete', blob: THUMB });
    expect(await screen.findByTestId('attachment-thumbnail')).toBeInTheDocument();
  });

  it('counts a connected device of my own as one that could send it', async () => {
    peers = [peer(MY_DEVICE, ME, true, true), peer('a1'.repeat(32), ME, false, true), peer(ADA_DEVICE, PARTNER, false, false)];
    await deviceLinks.load();
    render(AttachmentView, { attachment: file, message: MESSAGE, index: 0, mine: true });
    transfers.handle({ event: 'blob_progress', blob: FILE, done: 0, total: 830_000 });
    expect(await screen.findByTestId('attachment-progress')).toHaveTextContent('0%');
    expect(screen.queryByTestId('attachment-waiting')).not.toBeInTheDocument();
  });

  it('names my other device for one I sent from it', async () => {
    render(AttachmentView, { attachment: file, message: MESSAGE, index: 0, mine: true });
    transfers.handle({ event: 'blob_progress', blob: FILE, done: 0, total: 830_000 });
    expect(await screen.findByTestId('attachment-waiting')).toHaveTextContent(
      'Waiting for your other device or Ada to come online…',
    );
  });

  it('says it in French when the window speaks French', async () => {
    language.choose('fr');
    render(AttachmentView, { attachment: file, message: MESSAGE, index: 0, mine: true });
    transfers.handle({ event: 'blob_progress', blob: FILE, done: 0, total: 830_000 });
    expect(await screen.findByTestId('attachment-waiting')).toHaveTextContent(
      'En attente que votre autre appareil ou Ada se connecte…',
    );
    deviceLinks.set(ADA_DEVICE, true);
    transfers.handle({ event: 'blob_progress', blob: FILE, done: 415_000, total: 830_000 });
    expect(await screen.findByTestId('attachment-progress')).toHaveTextContent('50 %');
    expect(screen.getByRole('progressbar', { name: 'Réception du fichier tickets.pdf' })).toBeInTheDocument();
  });
});

describe('file sizes', () => {
  it('read like a person would say them', () => {
    expect(fileSize(1)).toBe('1 byte');
    expect(fileSize(999)).toBe('999 bytes');
    expect(fileSize(2_400_000)).toBe('2.4 MB');
    expect(fileSize(830_000)).toBe('830 KB');
  });
});
