/** Memories in French: the gallery, its months and "On this day" follow the window’s language. */
import { clearMocks } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { transfers } from '../chat/attachments/transfers.svelte';
import type { Message } from '../lib/backend';
import { language } from '../lib/i18n/index.svelte';
import { monthLabel, yearsAgoText } from './days';
import { memoriesBook } from './memories.svelte';
import MemoriesView from './MemoriesView.svelte';
import { imageAttachment, memoriesNode, shared, videoAttachment } from './testing';
import { kindText } from './tiles';

const TODAY = new Date(2026, 4, 12, 10, 30).getTime();

beforeEach(() => {
  transfers.clear();
  URL.createObjectURL = vi.fn(() => 'blob:duet-test');
});
afterEach(() => {
  cleanup();
  memoriesBook.clear();
  clearMocks();
  language.choose('system');
});

async function open(messages: Message[]) {
  const node = memoriesNode();
  node.fake.hold(...messages);
  render(MemoriesView, {
    nameOf: () => 'Ben',
    placeOf: () => 'avec Ben',
    onjump: vi.fn(),
    onclose: vi.fn(),
    today: () => TODAY,
  });
  await vi.waitFor(() => expect(memoriesBook.loaded).toBe(true));
  return node;
}

describe('Memories in French', () => {
  it('say months, years ago and kinds in French', () => {
    language.choose('fr');
    expect(monthLabel(new Date(2026, 4, 1).getTime())).toBe('Mai 2026');
    expect(yearsAgoText(new Date(2025, 4, 12).getTime(), TODAY)).toBe('Il y a 1 an');
    expect(yearsAgoText(new Date(2023, 4, 12).getTime(), TODAY)).toBe('Il y a 3 ans');
    expect(kindText('voice')).toBe('Message vocal');
    language.choose('en');
    expect(monthLabel(new Date(2026, 4, 1).getTime())).toBe('May 2026');
  });

  it('show the gallery in French', async () => {
    language.choose('fr');
    const lastYear = shared(new Date(2025, 4, 12, 9).getTime(), [imageAttachment('pique-nique.jpg')]);
    const may = shared(new Date(2026, 4, 3, 12).getTime(), [videoAttachment('vagues.mp4')]);
    await open([lastYear, may]);

    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Souvenirs');
    expect(screen.getByTestId('memories-close')).toHaveAccessibleName('Fermer les souvenirs');
    const day = screen.getByTestId('on-this-day');
    expect(within(day).getByRole('heading')).toHaveTextContent('Ce jour-là');
    expect(within(day).getByTestId('memory-years')).toHaveTextContent('Il y a 1 an');
    const months = screen.getAllByTestId('memory-month').map((m) => within(m).getByRole('heading').textContent);
    expect(months).toEqual(['Mai 2026', 'Mai 2025']);
    const video = screen.getAllByTestId('memory-tile').find((t) => t.dataset.kind === 'video')!;
    expect(within(video).getByTestId('memory-open')).toHaveAccessibleName(/^Vidéo : vagues\.mp4\. Ben, avec Ben, .*\. Afficher en grand$/);
    expect(within(video).getByTestId('memory-pin')).toHaveAccessibleName('Garder ce moment');
    expect(screen.getByText("C’est tout, jusqu’au tout premier que vous avez partagé.")).toBeInTheDocument();

    await fireEvent.click(within(video).getByTestId('memory-open'));
    const viewer = screen.getByTestId('memory-viewer');
    expect(viewer).toHaveTextContent('1 sur 2');
    expect(within(viewer).getByTestId('memory-jump')).toHaveTextContent('Aller au message');
    expect(within(viewer).getByTestId('memory-next')).toHaveAccessibleName('Souvenir suivant');
  });

  it('say a refused keep in French, around the node’s own words', async () => {
    language.choose('fr');
    const { fake } = await open([shared(new Date(2026, 4, 3, 12).getTime(), [imageAttachment('plage.jpg')])]);
    fake.refuse = 'Only 50 messages can be pinned in a conversation.';
    await fireEvent.click(within(screen.getByTestId('memory-tile')).getByTestId('memory-pin'));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      "Ce moment n’a pas pu être gardé (plage.jpg) : Only 50 messages can be pinned in a conversation.",
    );
  });
});
