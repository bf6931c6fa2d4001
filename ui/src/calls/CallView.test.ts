import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';

import type { CallKind, CameraDevice, MediaChoice } from '../lib/backend';
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
    // Devices switch once the call is in progress.
    expect(screen.getByRole('button', { name: 'Audio and video devices' })).toBeDisabled();
  });

  it('shows how the connection is, and says when it is poor', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] });
    let poor = false;
    let relayed = false;
    mockIPC((cmd) => {
      if (cmd === 'call_quality') {
        return poor
          ? { round_trip_ms: 420, loss_percent: 12, incoming_kbps: 9, outgoing_kbps: 30, poor: true, relayed }
          : { round_trip_ms: 34, loss_percent: 0, incoming_kbps: 41, outgoing_kbps: 40, poor: false, relayed };
      }
      return cmd === 'call_history' ? [] : null;
    });
    render(CallView, { nameOf });
    callSession.handle({ event: 'call', call: callInfo({ kind: 'voice', phase: 'active', answered_at: Date.now() }) });
    await vi.advanceTimersByTimeAsync(0);
    expect(screen.queryByTestId('call-quality')).not.toBeInTheDocument();
    await vi.advanceTimersByTimeAsync(3000);
    expect(screen.getByTestId('call-quality')).toHaveTextContent('Good connection · 34 ms');
    poor = true;
    await vi.advanceTimersByTimeAsync(3000);
    const quality = screen.getByTestId('call-quality');
    expect(quality).toHaveTextContent('Poor connection');
    expect(quality).toHaveAttribute('title', 'Round trip 420 ms, 12% of sound lost, 9 kbit/s in, 30 kbit/s out');
    // Through TURN: said in the indicator and why in its detail.
    poor = false;
    relayed = true;
    await vi.advanceTimersByTimeAsync(3000);
    expect(screen.getByTestId('call-quality')).toHaveTextContent('Good connection · 34 ms · through your relay');
    expect(screen.getByTestId('call-quality').getAttribute('title')).toContain('no direct path got through');
  });

  it('shares a window in a voice call, shows it, and stops', async () => {
    const seen: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      seen.push([cmd, args]);
      if (cmd === 'share_targets') {
        return [
          { id: 'screen', name: 'Whole screen' },
          { id: 'window:0x2a', name: 'Holiday plans' },
        ];
      }
      return cmd === 'call_history' ? [] : null;
    });
    render(CallView, { nameOf });
    callSession.handle({ event: 'call', call: callInfo({ kind: 'voice', phase: 'active', answered_at: Date.now() }) });
    await new Promise((r) => setTimeout(r, 0));
    expect(screen.queryByLabelText('Your video')).not.toBeInTheDocument();

    await fireEvent.click(screen.getByTestId('call-share'));
    const choices = await screen.findAllByTestId('share-target');
    expect(choices.map((b) => b.textContent)).toEqual(['Whole screen', 'Holiday plans']);
    await fireEvent.click(choices[1]!);
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toContainEqual(['share_screen', { target: 'window:0x2a' }]);
    expect(screen.getByTestId('call-sharing')).toHaveTextContent('You are sharing “Holiday plans”.');
    expect(screen.queryByTestId('share-menu')).not.toBeInTheDocument();
    // The stage opens in a voice call, with my shared screen as my preview.
    expect(screen.getByLabelText('Your video')).toBeInTheDocument();
    expect(screen.getByTestId('call-share')).toHaveTextContent('Stop sharing');

    await fireEvent.click(screen.getByTestId('call-share'));
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toContainEqual(['share_screen', { target: null }]);
    expect(screen.queryByTestId('call-sharing')).not.toBeInTheDocument();
    expect(screen.getByTestId('call-share')).toHaveTextContent('Share screen');
  });

  it('on Wayland opens the desktop’s own choice at once, and says what is shared', async () => {
    const seen: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      seen.push([cmd, args]);
      if (cmd === 'share_targets') return [{ id: 'portal', name: 'A screen or window (your desktop asks which)' }];
      return cmd === 'call_history' ? [] : null;
    });
    render(CallView, { nameOf });
    callSession.handle({ event: 'call', call: callInfo({ kind: 'voice', phase: 'active', answered_at: Date.now() }) });
    await new Promise((r) => setTimeout(r, 0));
    await fireEvent.click(screen.getByTestId('call-share'));
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toContainEqual(['share_screen', { target: 'portal' }]);
    expect(screen.queryByTestId('share-menu')).not.toBeInTheDocument();
    expect(screen.getByTestId('call-sharing')).toHaveTextContent('You are sharing what you chose on your desktop.');
    await fireEvent.click(screen.getByTestId('call-share'));
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toContainEqual(['share_screen', { target: null }]);
    expect(screen.queryByTestId('call-sharing')).not.toBeInTheDocument();
  });

  it('says in words why the screen cannot be shared, and the call goes on', async () => {
    mockIPC((cmd) => {
      if (cmd === 'share_targets') {
        throw { code: 'device_unavailable', message: 'Screen sharing needs a desktop session (no X11 or Wayland display was found).' };
      }
      return cmd === 'call_history' ? [] : null;
    });
    render(CallView, { nameOf });
    callSession.handle({ event: 'call', call: callInfo({ kind: 'voice', phase: 'active', answered_at: Date.now() }) });
    await new Promise((r) => setTimeout(r, 0));
    await fireEvent.click(screen.getByTestId('call-share'));
    expect(await screen.findByRole('alert')).toHaveTextContent('Screen sharing needs a desktop session (no X11 or Wayland display was found).');
    expect(screen.queryByTestId('share-menu')).not.toBeInTheDocument();
    expect(screen.getByTestId('call-hangup')).toHaveTextContent('Hang up');
  });

  describe('the devices panel', () => {
    const HEADSET = { id: 'sysdefault:CARD=Headset', name: 'USB Headset, USB Audio', is_default: false };
    const PULSE = { id: 'pulse', name: 'PulseAudio Sound Server', is_default: false };
    const WEBCAM: CameraDevice = { id: '/dev/video0', name: 'Integrated Webcam' };
    const CHOSEN: MediaChoice = { microphone: null, speaker: PULSE.id, camera: null, test_tone: true };

    /**
     * A shell in a call with a headset, the sound server (the chosen speaker) and a webcam;
     * `switched` answers `switch_call_devices` (nothing to say, unless told).
     */
    function shell(over: { switched?: (choice: MediaChoice) => unknown; listed?: 'fails' } = {}) {
      const seen: [string, unknown][] = [];
      mockIPC((cmd, args) => {
        seen.push([cmd, args]);
        switch (cmd) {
          case 'media_devices':
            if (over.listed === 'fails') throw { code: 'device_unavailable', message: 'The sound system could not be reached: is PipeWire running?' };
            return { microphones: [HEADSET], speakers: [PULSE], cameras: [WEBCAM], chosen: CHOSEN };
          case 'switch_call_devices':
            return over.switched ? over.switched((args as { choice: MediaChoice }).choice) : [];
          case 'call_history':
            return [];
        }
        return null;
      });
      return seen;
    }

    async function inCall(kind: CallKind) {
      render(CallView, { nameOf });
      callSession.handle({ event: 'call', call: callInfo({ kind, phase: 'active', answered_at: Date.now() }) });
      await new Promise((r) => setTimeout(r, 0));
    }

    async function openPanel() {
      await fireEvent.click(screen.getByRole('button', { name: 'Audio and video devices' }));
      const panel = await screen.findByRole('dialog', { name: 'Audio and video devices' });
      await within(panel).findByRole('combobox', { name: 'Microphone' });
      return panel;
    }

    const optionsOf = (select: HTMLElement) => within(select).getAllByRole('option').map((o) => o.textContent);

    it('lists the devices with the chosen ones selected, and switches the call to a picked microphone', async () => {
      let answer: (notices: string[]) => void = () => {};
      const seen = shell({ switched: () => new Promise<string[]>((resolve) => (answer = resolve)) });
      await inCall('video');
      const button = screen.getByRole('button', { name: 'Audio and video devices' });
      expect(button).toHaveAttribute('aria-expanded', 'false');
      const panel = await openPanel();
      expect(button).toHaveAttribute('aria-expanded', 'true');

      const microphone = within(panel).getByRole('combobox', { name: 'Microphone' });
      const speaker = within(panel).getByRole('combobox', { name: 'Speaker' });
      const camera = within(panel).getByRole('combobox', { name: 'Camera' });
      expect(optionsOf(microphone)).toEqual(['System default', 'USB Headset, USB Audio']);
      expect(optionsOf(speaker)).toEqual(['System default', 'PulseAudio Sound Server']);
      expect(optionsOf(camera)).toEqual(['System default', 'Integrated Webcam']);
      expect(microphone).toHaveValue('');
      expect(speaker).toHaveValue(PULSE.id);
      expect(camera).toHaveValue('');
      expect(microphone).toHaveFocus();

      await fireEvent.change(microphone, { target: { value: HEADSET.id } });
      // The whole choice goes: the picked microphone, the others as they were, the test tone too.
      expect(seen).toContainEqual(['switch_call_devices', { choice: { ...CHOSEN, microphone: HEADSET.id } }]);
      await waitFor(() => expect(microphone).toBeDisabled());
      expect(speaker).toBeDisabled();

      answer([]);
      await waitFor(() => expect(microphone).toBeEnabled());
      expect(microphone).toHaveValue(HEADSET.id);
      expect(within(panel).getByRole('status')).toHaveTextContent('Later calls and voice messages use it too.');
      expect(within(screen.getByRole('list', { name: 'About your devices' })).queryAllByRole('listitem')).toEqual([]);
      expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    });

    it('shows what a picked device could not open with the call’s other notices', async () => {
      const seen = shell({
        switched: (choice) => (choice.speaker === null ? ['The speaker “pulse” went away: using the default speaker'] : []),
      });
      await inCall('video');
      const panel = await openPanel();
      await fireEvent.change(within(panel).getByRole('combobox', { name: 'Speaker' }), { target: { value: '' } });
      expect(seen).toContainEqual(['switch_call_devices', { choice: { ...CHOSEN, speaker: null } }]);
      const notices = screen.getByRole('list', { name: 'About your devices' });
      await waitFor(() => expect(notices).toHaveTextContent('The speaker “pulse” went away: using the default speaker.'));
      expect(screen.getByRole('dialog', { name: 'Audio and video devices' })).toBeInTheDocument();
    });

    it('says in words why the devices could not switch, and puts the choice back', async () => {
      shell({
        switched: () => {
          throw { code: 'not_allowed', message: 'There is no call in progress to switch devices in.' };
        },
      });
      await inCall('video');
      const panel = await openPanel();
      const microphone = within(panel).getByRole('combobox', { name: 'Microphone' });
      await fireEvent.change(microphone, { target: { value: HEADSET.id } });
      expect(await within(panel).findByRole('alert')).toHaveTextContent('There is no call in progress to switch devices in.');
      expect(microphone).toHaveValue('');
      expect(microphone).toBeEnabled();
    });

    it('says so in words when the devices cannot be listed', async () => {
      shell({ listed: 'fails' });
      await inCall('voice');
      await fireEvent.click(screen.getByRole('button', { name: 'Audio and video devices' }));
      const panel = await screen.findByRole('dialog', { name: 'Audio and video devices' });
      expect(await within(panel).findByRole('alert')).toHaveTextContent('The sound system could not be reached: is PipeWire running?');
      expect(within(panel).queryByRole('combobox')).not.toBeInTheDocument();
    });

    it('closes with Esc, giving the focus back to the button, and with a click outside', async () => {
      shell();
      await inCall('video');
      const button = screen.getByRole('button', { name: 'Audio and video devices' });
      const panel = await openPanel();
      await fireEvent.keyDown(within(panel).getByRole('combobox', { name: 'Speaker' }), { key: 'Escape' });
      expect(screen.queryByRole('dialog', { name: 'Audio and video devices' })).not.toBeInTheDocument();
      expect(button).toHaveFocus();
      expect(button).toHaveAttribute('aria-expanded', 'false');

      await openPanel();
      // A click inside keeps it open; one outside closes it.
      await fireEvent.pointerDown(screen.getByRole('combobox', { name: 'Camera' }));
      expect(screen.getByRole('dialog', { name: 'Audio and video devices' })).toBeInTheDocument();
      await fireEvent.pointerDown(screen.getByTestId('call-status'));
      expect(screen.queryByRole('dialog', { name: 'Audio and video devices' })).not.toBeInTheDocument();
    });

    it('offers no camera in a voice call', async () => {
      shell();
      await inCall('voice');
      const panel = await openPanel();
      expect(within(panel).getByRole('combobox', { name: 'Speaker' })).toBeInTheDocument();
      expect(within(panel).queryByRole('combobox', { name: 'Camera' })).not.toBeInTheDocument();
      expect(within(panel).queryByText('Camera')).not.toBeInTheDocument();
    });
  });
});
