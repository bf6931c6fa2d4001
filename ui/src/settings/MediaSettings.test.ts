import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import type { CameraDevice, MediaChoice } from '../lib/backend';
import MediaSettings from './MediaSettings.svelte';

const HEADSET = { id: 'sysdefault:CARD=Headset', name: 'USB Headset, USB Audio', is_default: false };
const PULSE = { id: 'pulse', name: 'PulseAudio Sound Server', is_default: false };
const WEBCAM: CameraDevice = { id: '/dev/video0', name: 'Integrated Webcam' };

interface Levels {
  onmessage: (level: number) => void;
}

/**
 * A shell with one headset and the sound server: it keeps the choice, refuses a device id
 * with a line break (as the node does), and runs the meter and the chime as asked.
 */
function shell(over: { cameras?: CameraDevice[]; chosen?: Partial<MediaChoice>; meter?: string; sound?: string } = {}) {
  let kept: MediaChoice = { microphone: null, speaker: null, camera: null, test_tone: false, ...over.chosen };
  const seen = { kept: [] as MediaChoice[], meters: [] as (string | null)[], stops: 0, played: [] as (string | null)[] };
  let levels: Levels | null = null;
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    switch (cmd) {
      case 'media_devices':
        return { microphones: [HEADSET], speakers: [PULSE], cameras: over.cameras ?? [WEBCAM], chosen: kept };
      case 'set_media_devices': {
        const choice = a.choice as MediaChoice;
        if ([choice.microphone, choice.speaker, choice.camera].some((id) => id?.includes('\n'))) {
          throw { code: 'invalid_input', message: 'That microphone name cannot be a device: device names are at most 256 characters on one line.' };
        }
        kept = choice;
        seen.kept.push(choice);
        return kept;
      }
      case 'start_microphone_meter':
        seen.meters.push(a.microphone as string | null);
        if (over.meter) throw { code: 'device_unavailable', message: over.meter };
        levels = a.levels as Levels;
        return null;
      case 'stop_microphone_meter':
        seen.stops += 1;
        return null;
      case 'play_test_sound':
        seen.played.push(a.speaker as string | null);
        if (over.sound) throw { code: 'device_unavailable', message: over.sound };
        return null;
    }
    throw new Error(`unexpected command ${cmd}`);
  });
  return { seen, level: (rms: number) => levels?.onmessage(rms) };
}

afterEach(() => {
  cleanup();
  clearMocks();
});

const optionsOf = (select: HTMLElement) => within(select).getAllByRole('option').map((o) => o.textContent);

describe('audio and video settings', () => {
  it('offers System default first, keeps a picked microphone at once and meters it', async () => {
    const { seen, level } = shell();
    const { unmount } = render(MediaSettings);
    const microphone = await screen.findByRole('combobox', { name: 'Microphone' });
    expect(optionsOf(microphone)).toEqual(['System default', 'USB Headset, USB Audio']);
    expect(microphone).toHaveValue('');
    expect(optionsOf(screen.getByRole('combobox', { name: 'Speaker' }))).toEqual(['System default', 'PulseAudio Sound Server']);
    expect(optionsOf(screen.getByRole('combobox', { name: 'Camera' }))).toEqual(['System default', 'Integrated Webcam']);

    // The default microphone is metered while the settings are open.
    await waitFor(() => expect(seen.meters).toEqual([null]));
    const meter = screen.getByRole('meter', { name: 'Microphone level' });
    expect(meter).toHaveAttribute('aria-valuenow', '0');
    level(0.1);
    await waitFor(() => expect(meter).toHaveAttribute('aria-valuenow', '67'));

    await fireEvent.change(microphone, { target: { value: HEADSET.id } });
    await waitFor(() => expect(seen.kept).toEqual([{ microphone: HEADSET.id, speaker: null, camera: null, test_tone: false }]));
    expect(await screen.findByText('Saved: the next call and voice message use it.')).toBeInTheDocument();
    await waitFor(() => expect(seen.meters).toEqual([null, HEADSET.id]), { timeout: 1000 });

    // Closing the settings lets the microphone go.
    unmount();
    expect(seen.stops).toBe(1);
  });

  it('says there is no camera, and why the microphone cannot be metered, next to each', async () => {
    shell({ cameras: [], meter: 'No microphone found' });
    render(MediaSettings);
    expect(await screen.findByText('No camera found: video calls go on with sound only.')).toBeInTheDocument();
    expect(screen.queryByRole('combobox', { name: 'Camera' })).not.toBeInTheDocument();
    const microphone = screen.getByRole('combobox', { name: 'Microphone' });
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('No microphone found');
    // The words are the microphone picker's description, so a screen reader hears them with it.
    expect(microphone).toHaveAccessibleDescription('No microphone found');
    expect(microphone).toHaveAttribute('aria-invalid', 'true');
  });

  it('shows a kept device that is not plugged in, marked, rather than pretending it is the default', async () => {
    shell({ chosen: { microphone: 'sysdefault:CARD=Old', camera: '/dev/video4' }, cameras: [] });
    render(MediaSettings);
    const microphone = await screen.findByRole('combobox', { name: 'Microphone' });
    expect(optionsOf(microphone)).toContain('sysdefault:CARD=Old (not connected)');
    expect(microphone).toHaveValue('sysdefault:CARD=Old');
    // No camera plugged in, but the kept one can still be set back to the default.
    expect(screen.getByRole('combobox', { name: 'Camera' })).toHaveValue('/dev/video4');
    expect(screen.getByText('No camera found: video calls go on with sound only.')).toBeInTheDocument();
  });

  it('plays the test sound on the chosen speaker, and says so in words when it cannot', async () => {
    const { seen } = shell({ chosen: { speaker: PULSE.id } });
    render(MediaSettings);
    const play = await screen.findByRole('button', { name: 'Play a test sound' });
    await fireEvent.click(play);
    expect(await screen.findByText(/Played a chime/)).toBeInTheDocument();
    expect(seen.played).toEqual([PULSE.id]);

    cleanup();
    shell({ sound: 'The speaker “pulse” could not be opened (device busy)' });
    render(MediaSettings);
    await fireEvent.click(await screen.findByRole('button', { name: 'Play a test sound' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The speaker “pulse” could not be opened (device busy)');
    expect(screen.getByRole('combobox', { name: 'Speaker' })).toHaveAttribute('aria-invalid', 'true');
  });

  it('turns the test tone on at once, and puts back a choice the node refused', async () => {
    const { seen } = shell();
    render(MediaSettings);
    const tone = await screen.findByRole('switch', { name: 'Send a test tone instead of my microphone' });
    expect(tone).not.toBeChecked();
    await fireEvent.click(tone);
    await waitFor(() => expect(seen.kept.at(-1)).toEqual({ microphone: null, speaker: null, camera: null, test_tone: true }));
    expect(tone).toBeChecked();

    const camera = screen.getByRole('combobox', { name: 'Camera' });
    // A device id the node refuses (a pasted line break cannot be a device).
    const option = document.createElement('option');
    option.value = 'cam\nera';
    camera.append(option);
    await fireEvent.change(camera, { target: { value: 'cam\nera' } });
    expect(await screen.findByRole('alert')).toHaveTextContent('device names are at most 256 characters on one line');
    expect(camera).toHaveValue('');
    expect(seen.kept).toHaveLength(1);
  });
});
