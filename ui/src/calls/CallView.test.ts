import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { PARTNER } from '../test/messages';
import { callSession } from './callSession.svelte';
import CallView from './CallView.svelte';
import { callInfo } from './fixtures';

afterEach(() => {
  cleanup();
  clearMocks();
  callSession.close();
  vi.useRealTimers();
});

const nameOf = (id: string) => (id === PARTNER ? 'Ben' : 'You');

describe('the in-call view', () => {
  it('shows ringing, then a running timer with the controls, then the ended call', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
    const seen: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      seen.push([cmd, args]);
      if (cmd === 'start_call') return { call: callInfo({ kind: 'video' }), notices: [], test_tone: true, camera: true };
      return cmd === 'call_history' ? [] : null;
    });
    render(CallView, { nameOf });
    await callSession.start('video');
    await vi.advanceTimersByTimeAsync(0);
    expect(screen.getByTestId('call-status')).toHaveTextContent('Calling…');
    expect(screen.getByTestId('call-test-tone')).toHaveTextContent(
      'Sending a test tone instead of your microphone, and a test pattern instead of your camera.',
    );
    expect(screen.getByTestId('call-hangup')).toHaveTextContent('Cancel');
    expect(screen.getByTestId('call-mute')).toBeDisabled();

    callSession.handle({ event: 'call', call: callInfo({ phase: 'active', answered_at: Date.now() }) });
    await vi.advanceTimersByTimeAsync(0);
    expect(screen.getByTestId('call-status')).toHaveTextContent('0:00');
    await vi.advanceTimersByTimeAsync(3000);
    expect(screen.getByTestId('call-status')).toHaveTextContent('0:03');
    expect(screen.getByLabelText('Ben’s video')).toBeInTheDocument();
    expect(screen.getByLabelText('Your video')).toBeInTheDocument();

    await fireEvent.click(screen.getByTestId('call-mute'));
    expect(seen).toContainEqual(['set_call_muted', { muted: true }]);
    expect(screen.getByTestId('call-mute')).toHaveAttribute('aria-pressed', 'true');
    await fireEvent.click(screen.getByTestId('call-camera'));
    expect(seen).toContainEqual(['set_call_camera', { on: false }]);

    callSession.handle({ event: 'call_peer_media', call: callInfo().id, muted: true, camera: false });
    await vi.advanceTimersByTimeAsync(0);
    expect(screen.getByText('Ben is muted')).toBeInTheDocument();
    expect(screen.getByText('Ben turned their camera off')).toBeInTheDocument();

    await fireEvent.click(screen.getByTestId('call-hangup'));
    expect(seen.map(([c]) => c)).toContain('hang_up');
    callSession.handle({
      event: 'call',
      call: callInfo({ phase: 'ended', outcome: 'ended', answered_at: 1_000_000, ended_at: 1_000_000 + 3000 }),
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(screen.getByTestId('call-status')).toHaveTextContent('Call ended · 0:03');
    expect(screen.queryByTestId('call-hangup')).not.toBeInTheDocument();
    expect(screen.queryByLabelText('Ben’s video')).not.toBeInTheDocument();
  });

  it('says in words which devices did not open, and what they say later in the call', async () => {
    mockIPC((cmd) => {
      if (cmd === 'start_call') {
        return { call: callInfo({ kind: 'video' }), notices: ['No camera is plugged in: the call goes on with sound only'], test_tone: false, camera: false };
      }
      return cmd === 'call_history' ? [] : null;
    });
    render(CallView, { nameOf });
    await callSession.start('video');
    const notices = await screen.findByRole('list', { name: 'About your devices' });
    expect(notices).toHaveTextContent('No camera is plugged in: the call goes on with sound only.');
    expect(screen.queryByTestId('call-test-tone')).not.toBeInTheDocument();
    // No picture goes out: no camera switch, and my preview says why rather than "You".
    expect(screen.queryByTestId('call-camera')).not.toBeInTheDocument();
    expect(screen.getByRole('img', { name: 'Your video' })).toHaveTextContent('No camera');

    callSession.handle({ event: 'call', call: callInfo({ phase: 'active', answered_at: Date.now() }) });
    callSession.handle({ event: 'call_notice', call: callInfo().id, words: 'The microphone “USB Headset” went away: using the default microphone' });
    // A notice about another call (one that just ended) is not this call's.
    callSession.handle({ event: 'call_notice', call: 'c1'.repeat(16), words: 'The speaker stopped working; trying it again' });
    await new Promise((r) => setTimeout(r, 0));
    const items = screen.getAllByRole('listitem').map((li) => li.textContent);
    expect(items).toEqual([
      'No camera is plugged in: the call goes on with sound only.',
      'The microphone “USB Headset” went away: using the default microphone.',
    ]);
    expect(notices).toHaveAttribute('aria-live', 'polite');
  });

  it('shows a voice call without video', async () => {
    mockIPC(() => null);
    render(CallView, { nameOf });
    callSession.handle({ event: 'call', call: callInfo({ kind: 'voice', phase: 'ringing' }) });
    await new Promise((r) => setTimeout(r, 0));
    expect(screen.getByTestId('call-status')).toHaveTextContent('Ringing…');
    expect(screen.queryByLabelText('Ben’s video')).not.toBeInTheDocument();
    expect(screen.queryByTestId('call-camera')).not.toBeInTheDocument();
  });
});
