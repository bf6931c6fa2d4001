import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import type { VoiceNoteProgress } from '../../lib/backend';
import AttachTools from './AttachTools.svelte';

interface Progress {
  onmessage: (p: VoiceNoteProgress) => void;
}

function shell(opts: { testTone?: boolean; notices?: string[] } = {}) {
  const stops: unknown[] = [];
  let progress: Progress | null = null;
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    if (cmd === 'start_voice_note') {
      progress = a.progress as Progress;
      return { notices: opts.notices ?? [], test_tone: opts.testTone ?? false };
    }
    if (cmd === 'stop_voice_note') {
      stops.push(a.target);
      return null;
    }
    throw new Error(`unexpected command ${cmd}`);
  });
  return {
    stops,
    say: (p: Partial<VoiceNoteProgress>) => progress!.onmessage({ level: 0, recorded_ms: 0, full: false, notice: null, ...p }),
  };
}

afterEach(() => {
  cleanup();
  clearMocks();
  vi.useRealTimers();
});

const recordButton = () => screen.getByTestId('voice-record');

describe('the voice message recorder', () => {
  it('shows a timer and the level while recording; Esc throws the message away', async () => {
    const s = shell();
    render(AttachTools, { props: { target: 'direct', onfiles: () => {} } });
    expect(recordButton()).toHaveAccessibleName('Record a voice message (click, or hold and let go to send)');
    await fireEvent.pointerDown(recordButton());
    await fireEvent.pointerUp(recordButton());
    const recorder = await screen.findByRole('group', { name: 'Voice message being recorded' });
    expect(recordButton()).toHaveAttribute('aria-pressed', 'true');

    s.say({ level: 0.1, recorded_ms: 12_400 });
    await waitFor(() => expect(screen.getByRole('timer', { name: 'Recorded' })).toHaveTextContent('0:12'));
    expect(screen.getByRole('meter', { name: 'Microphone level' })).toHaveAttribute('aria-valuenow', '67');
    expect(recorder).not.toHaveTextContent('test tone');

    await fireEvent.keyDown(screen.getByRole('button', { name: 'Cancel' }), { key: 'Escape' });
    await waitFor(() => expect(s.stops).toEqual([null]));
    expect(screen.queryByRole('group', { name: 'Voice message being recorded' })).not.toBeInTheDocument();
  });

  it('hold to record: letting go after a hold sends it to the conversation', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const s = shell();
    render(AttachTools, { props: { target: { channel: 'cd'.repeat(16) }, onfiles: () => {} } });
    await fireEvent.pointerDown(recordButton());
    await screen.findByRole('group', { name: 'Voice message being recorded' });
    vi.setSystemTime(Date.now() + 1500);
    await fireEvent.pointerUp(recordButton());
    await waitFor(() => expect(s.stops).toEqual([{ channel: 'cd'.repeat(16) }]));
  });

  it('from the keyboard the button starts, and Send sends; the test tone and the microphone’s words show', async () => {
    const s = shell({ testTone: true, notices: ['The microphone “USB Headset” was not found: recording from the default microphone'] });
    render(AttachTools, { props: { target: 'direct', onfiles: () => {} } });
    // Enter or Space on a button is a click with no pointer (detail 0).
    await fireEvent.click(recordButton());
    expect(await screen.findByTestId('voice-test-tone')).toHaveTextContent('test tone');
    expect(screen.getByText('The microphone “USB Headset” was not found: recording from the default microphone.')).toBeInTheDocument();
    await fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    await waitFor(() => expect(s.stops).toEqual(['direct']));
  });

  it('says so when five minutes stopped it', async () => {
    const s = shell();
    render(AttachTools, { props: { target: 'direct', onfiles: () => {} } });
    await fireEvent.click(recordButton());
    await screen.findByRole('group', { name: 'Voice message being recorded' });
    s.say({ recorded_ms: 300_000, full: true, level: 0.2 });
    expect(await screen.findByRole('status')).toHaveTextContent('Voice messages stop at 5 minutes. Send it, or cancel to throw it away.');
    expect(screen.getByRole('timer', { name: 'Recorded' })).toHaveTextContent('5:00');
    expect(screen.getByRole('meter', { name: 'Microphone level' })).toHaveAttribute('aria-valuenow', '0');
  });

  it('says in words that there is no microphone, and records nothing', async () => {
    mockIPC((cmd) => {
      if (cmd === 'start_voice_note') throw { code: 'device_unavailable', message: 'No microphone found, so nothing can be recorded.' };
      throw new Error(`unexpected command ${cmd}`);
    });
    render(AttachTools, { props: { target: 'direct', onfiles: () => {} } });
    await fireEvent.click(recordButton());
    expect(await screen.findByRole('alert')).toHaveTextContent('No microphone found, so nothing can be recorded.');
    expect(screen.queryByRole('group', { name: 'Voice message being recorded' })).not.toBeInTheDocument();
    expect(recordButton()).toHaveAttribute('aria-pressed', 'false');
  });
});

describe('the recorder in the composer’s row', () => {
  it('tells the pane while it records, so the text field can make room', async () => {
    shell();
    const seen: boolean[] = [];
    render(AttachTools, { props: { target: 'direct', onfiles: () => {}, onrecording: (active: boolean) => seen.push(active) } });
    await fireEvent.click(recordButton());
    await screen.findByRole('group', { name: 'Voice message being recorded' });
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(seen).toEqual([false, true, false]));
  });
});
