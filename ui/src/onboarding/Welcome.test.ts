import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import type { AppSnapshot, Person } from '../lib/backend';
import { ME, PARTNER } from '../test/messages';
import Welcome from './Welcome.svelte';

const maya: Person = { id: ME, display_name: 'Maya', avatar: { emoji: '💛' }, devices: ['a0'.repeat(32), 'a1'.repeat(32)] };
const ben: Person = { id: PARTNER, display_name: 'Ben', avatar: null, devices: ['b0'.repeat(32)] };
const linked: AppSnapshot = { device_id: 'a1'.repeat(32), profile: maya, partner: ben, paired: true, catching_up: false };

const PARTNER_REFUSAL =
  'This invite is for a partner, not for another of your devices: on your other device, open Settings and choose “Create a device invite”.';

/** A shell that links with a device invite and refuses a partner's as the node does. */
function shell() {
  const tickets: string[] = [];
  mockIPC((cmd, args) => {
    if (cmd === 'link_device') {
      const ticket = (args as { ticket: string }).ticket;
      tickets.push(ticket);
      if (ticket.startsWith('duet1:partner:')) throw { code: 'not_allowed', message: PARTNER_REFUSAL };
      return linked;
    }
    throw new Error(`unexpected command ${cmd}`);
  });
  return tickets;
}

afterEach(() => {
  cleanup();
  clearMocks();
});

describe('this is another of my devices', () => {
  it('links with the pasted device invite, after saying where to make it', async () => {
    const tickets = shell();
    const arrived: AppSnapshot[] = [];
    render(Welcome, { oncreated: (s: AppSnapshot) => arrived.push(s) });

    await fireEvent.click(screen.getByTestId('link-device'));
    expect(screen.getByRole('heading', { name: 'Link this device' })).toBeInTheDocument();
    expect(screen.getByText(/open Settings and choose “Create a device invite”/)).toBeInTheDocument();
    const field = screen.getByTestId('link-device-ticket');
    expect(field).toHaveFocus();

    await fireEvent.click(screen.getByTestId('link-device-submit'));
    expect(screen.getByRole('alert')).toHaveTextContent('Paste the device invite from your other device.');
    expect(tickets).toEqual([]);

    await fireEvent.input(field, { target: { value: '  duet1:owndevice:abc \n' } });
    await fireEvent.click(screen.getByTestId('link-device-submit'));
    await waitFor(() => expect(arrived).toEqual([linked]));
    expect(tickets).toEqual(['duet1:owndevice:abc']);
  });

  it('refuses a partner’s invite in words and lets me try again', async () => {
    const tickets = shell();
    const arrived: AppSnapshot[] = [];
    render(Welcome, { oncreated: (s: AppSnapshot) => arrived.push(s) });

    await fireEvent.click(screen.getByTestId('link-device'));
    const field = screen.getByTestId('link-device-ticket');
    await fireEvent.input(field, { target: { value: 'duet1:partner:xyz' } });
    await fireEvent.click(screen.getByTestId('link-device-submit'));

    expect(await screen.findByRole('alert')).toHaveTextContent(PARTNER_REFUSAL);
    expect(field).toHaveAttribute('aria-invalid', 'true');
    expect(field).toHaveValue('duet1:partner:xyz');
    expect(field).toBeEnabled();
    expect(tickets).toEqual(['duet1:partner:xyz']);
    expect(arrived).toEqual([]);

    // Back to making a profile, for someone new to Duet after all.
    await fireEvent.click(screen.getByRole('button', { name: 'Back: I am new to Duet' }));
    expect(screen.getByRole('heading', { name: 'Welcome to Duet' })).toBeInTheDocument();
    expect(screen.getByTestId('onboarding-name')).toHaveFocus();
  });
});

const alone: AppSnapshot = { device_id: 'a0'.repeat(32), profile: maya, partner: null, paired: false, catching_up: false };
const NO_KEYRING = { code: 'keyring_unavailable', message: 'no desktop keyring can keep the key of this Duet data' };

/** A desktop without a keyring: making a profile or linking needs a passphrase chosen first. */
function keyringless() {
  const calls: [string, Record<string, unknown>][] = [];
  let chosen: string | null = null;
  mockIPC((cmd, raw) => {
    const args = (raw ?? {}) as Record<string, unknown>;
    calls.push([cmd, args]);
    if (cmd === 'choose_data_passphrase') {
      chosen = String(args.passphrase);
      return null;
    }
    if (cmd === 'create_profile' || cmd === 'link_device') {
      if (chosen === null) throw NO_KEYRING;
      return cmd === 'create_profile' ? alone : linked;
    }
    throw new Error(`unexpected command ${cmd}`);
  });
  return calls;
}

describe('a desktop without a keyring', () => {
  it('asks for a passphrase, refuses a short one and two that differ in words, then makes the profile as asked', async () => {
    const calls = keyringless();
    const arrived: AppSnapshot[] = [];
    render(Welcome, { oncreated: (s: AppSnapshot) => arrived.push(s) });

    await fireEvent.input(screen.getByTestId('onboarding-name'), { target: { value: 'Maya' } });
    const choice = screen.getAllByTestId('onboarding-avatar')[1]!;
    const avatar = choice.dataset.emoji;
    await fireEvent.click(choice.querySelector('input')!);
    await fireEvent.click(screen.getByTestId('onboarding-submit'));

    const step = await screen.findByTestId('choose-passphrase');
    expect(step).toHaveTextContent(
      'Duet keeps everything on this computer encrypted. Your desktop has no keyring to hold the key, so choose a passphrase: you will type it when Duet starts.',
    );
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    const first = screen.getByTestId('data-passphrase');
    const again = screen.getByTestId('data-passphrase-again');
    expect(first).toHaveAttribute('type', 'password');
    expect(again).toHaveAttribute('type', 'password');
    await waitFor(() => expect(first).toHaveFocus());
    const proceed = screen.getByTestId('data-passphrase-submit');
    expect(proceed).toHaveTextContent('Continue');

    await fireEvent.input(first, { target: { value: 'short' } });
    await fireEvent.input(again, { target: { value: 'short' } });
    await fireEvent.click(proceed);
    expect(screen.getByRole('alert')).toHaveTextContent('Use at least 8 characters.');
    expect(first).toHaveAttribute('aria-invalid', 'true');

    await fireEvent.input(first, { target: { value: 'our long passphrase' } });
    await fireEvent.input(again, { target: { value: 'our long passphrasE' } });
    await fireEvent.click(proceed);
    expect(screen.getByRole('alert')).toHaveTextContent('The two passphrases differ.');
    expect(again).toHaveAttribute('aria-invalid', 'true');
    expect(again).toHaveFocus();
    expect(calls.map(([c]) => c)).toEqual(['create_profile']);

    await fireEvent.input(again, { target: { value: 'our long passphrase' } });
    await fireEvent.click(proceed);
    await waitFor(() => expect(arrived).toEqual([alone]));
    expect(calls).toEqual([
      ['create_profile', { name: 'Maya', avatar }],
      ['choose_data_passphrase', { passphrase: 'our long passphrase' }],
      ['create_profile', { name: 'Maya', avatar }],
    ]);
  });

  it('links this device with the same invite once a passphrase is chosen', async () => {
    const calls = keyringless();
    const arrived: AppSnapshot[] = [];
    render(Welcome, { oncreated: (s: AppSnapshot) => arrived.push(s) });

    await fireEvent.click(screen.getByTestId('link-device'));
    await fireEvent.input(screen.getByTestId('link-device-ticket'), { target: { value: 'duet1:owndevice:abc' } });
    await fireEvent.click(screen.getByTestId('link-device-submit'));

    expect(await screen.findByTestId('choose-passphrase')).toBeInTheDocument();
    expect(screen.queryByTestId('link-device-ticket')).not.toBeInTheDocument();
    await fireEvent.input(screen.getByTestId('data-passphrase'), { target: { value: 'twelve chars' } });
    await fireEvent.input(screen.getByTestId('data-passphrase-again'), { target: { value: 'twelve chars' } });
    await fireEvent.click(screen.getByTestId('data-passphrase-submit'));

    await waitFor(() => expect(arrived).toEqual([linked]));
    expect(calls).toEqual([
      ['link_device', { ticket: 'duet1:owndevice:abc' }],
      ['choose_data_passphrase', { passphrase: 'twelve chars' }],
      ['link_device', { ticket: 'duet1:owndevice:abc' }],
    ]);
  });

  it('shows the shell’s refusal of the passphrase and stays', async () => {
    mockIPC((cmd) => {
      if (cmd === 'create_profile') throw NO_KEYRING;
      if (cmd === 'choose_data_passphrase') throw { code: 'invalid_input', message: 'choose a passphrase of at least 8 characters (and at most 1024)' };
      throw new Error(`unexpected command ${cmd}`);
    });
    render(Welcome, { oncreated: () => {} });

    await fireEvent.input(screen.getByTestId('onboarding-name'), { target: { value: 'Maya' } });
    await fireEvent.click(screen.getByTestId('onboarding-submit'));
    await fireEvent.input(await screen.findByTestId('data-passphrase'), { target: { value: '        ' } });
    await fireEvent.input(screen.getByTestId('data-passphrase-again'), { target: { value: '        ' } });
    await fireEvent.click(screen.getByTestId('data-passphrase-submit'));

    expect(await screen.findByRole('alert')).toHaveTextContent('choose a passphrase of at least 8 characters');
    expect(screen.getByTestId('choose-passphrase')).toBeInTheDocument();
    expect(screen.getByTestId('data-passphrase-submit')).toBeEnabled();

    await fireEvent.click(screen.getByRole('button', { name: 'Back: change my name or avatar' }));
    expect(screen.getByTestId('onboarding-name')).toHaveValue('Maya');
    expect(screen.getByTestId('onboarding-name')).toHaveFocus();
  });
});
