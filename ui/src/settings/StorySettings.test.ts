import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import type { StoryReport } from '../lib/backend';
import StorySettings from './StorySettings.svelte';

const REPORT: StoryReport = {
  path: '/home/ada/Downloads/duet-our-story-2026-12-04.html',
  messages: 1234,
  pictures: 56,
  pictures_left_out: 3,
  bytes: 12_300_000,
};

/** A shell whose `export_story` answers when the test says so: with a report or a refusal. */
function shell() {
  const asked: unknown[] = [];
  let settle: { resolve: (r: StoryReport) => void; reject: (e: unknown) => void } | null = null;
  mockIPC((cmd, args) => {
    if (cmd !== 'export_story') throw new Error(`unexpected command ${cmd}`);
    asked.push((args as { path: string | null }).path);
    return new Promise<StoryReport>((resolve, reject) => (settle = { resolve, reject }));
  });
  return {
    asked,
    answer: (r: StoryReport) => settle!.resolve(r),
    refuse: (code: string, message: string) => settle!.reject({ code, message }),
  };
}

afterEach(() => {
  cleanup();
  clearMocks();
});

describe('our story', () => {
  it('explains what it makes and says "Saving…" on a disabled button while the node writes', async () => {
    const node = shell();
    render(StorySettings);
    expect(screen.getByTestId('story-settings')).toHaveTextContent('one page any browser opens');
    const button = screen.getByTestId('story-save');
    expect(button).toHaveTextContent('Save our story');
    expect(button).toBeEnabled();

    await fireEvent.click(button);
    expect(button).toHaveTextContent('Saving…');
    expect(button).toBeDisabled();
    expect(node.asked).toEqual([null]);
    expect(screen.queryByTestId('story-saved')).toBeNull();

    node.answer(REPORT);
    expect(await screen.findByTestId('story-saved')).toBeInTheDocument();
    expect(button).toHaveTextContent('Save our story');
    expect(button).toBeEnabled();
  });

  it('says where the page went and what it holds', async () => {
    const node = shell();
    render(StorySettings);
    await fireEvent.click(screen.getByTestId('story-save'));
    node.answer(REPORT);
    const saved = await screen.findByTestId('story-saved');
    const n = (x: number) => x.toLocaleString();
    expect(saved).toHaveTextContent(
      `Saved to ${REPORT.path} — ${n(1234)} messages, 56 photos (3 not on this computer), 12 MB`,
    );
    expect(screen.getByRole('status')).toContainElement(saved);
    expect(screen.queryByTestId('story-error')).toBeNull();
  });

  it('leaves out "not on this computer" when every photo was here, and counts one in the singular', async () => {
    const node = shell();
    render(StorySettings);
    await fireEvent.click(screen.getByTestId('story-save'));
    node.answer({ path: '/tmp/ours.html', messages: 1, pictures: 1, pictures_left_out: 0, bytes: 830_000 });
    const saved = await screen.findByTestId('story-saved');
    expect(saved).toHaveTextContent('Saved to /tmp/ours.html — 1 message, 1 photo, 830 KB');
    expect(saved).not.toHaveTextContent('not on this computer');
  });

  it("shows a refusal in the node's words, and the button works again", async () => {
    const node = shell();
    render(StorySettings);
    const button = screen.getByTestId('story-save');
    await fireEvent.click(button);
    node.refuse('unwritable_file', 'Duet could not write /home/ada/Downloads/duet-our-story-2026-12-04.html: the disk is full');

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('the disk is full');
    expect(screen.getByTestId('story-error')).toHaveTextContent('Duet could not write');
    expect(screen.queryByTestId('story-saved')).toBeNull();
    expect(button).toBeEnabled();
    expect(button).toHaveTextContent('Save our story');

    await fireEvent.click(button);
    expect(node.asked).toEqual([null, null]);
    expect(button).toBeDisabled();
    expect(screen.queryByRole('alert')).toBeNull();
    node.answer(REPORT);
    expect(await screen.findByTestId('story-saved')).toHaveTextContent('3 not on this computer');
    expect(screen.queryByTestId('story-error')).toBeNull();
  });
});

describe('our story with the fake node (?mock)', () => {
  it('writes to Downloads under today\'s date and counts its messages and photos', async () => {
    const { installFakeBackend } = await import('../dev/fakeBackend');
    installFakeBackend('');
    render(StorySettings);
    await fireEvent.click(screen.getByTestId('story-save'));
    expect(screen.getByTestId('story-save')).toHaveTextContent('Saving…');
    const saved = await screen.findByTestId('story-saved', {}, { timeout: 3000 });
    const d = new Date();
    const today = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    expect(saved).toHaveTextContent(`Saved to /home/you/Downloads/duet-our-story-${today}.html — `);
    expect(saved).toHaveTextContent(/— [\d.,\s]+ messages, \d+ photos? \(\d+ not on this computer\), [\d.]+ MB$/);
  });
});
