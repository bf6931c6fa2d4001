import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import type { AppSnapshot, Person } from '../lib/backend';
import { ME, PARTNER } from '../test/messages';
import Welcome from './Welcome.svelte';

const maya: Person = { id: ME, display_name: 'Maya', avatar: { emoji: '💛' }, devices: ['a0'.repeat(32), 'a1'.repeat(32)] };
const ben: Person = { id: PARTNER, display_name: 'Ben', avatar: null, devices: ['b0'.repeat(32)] };
const linked: AppSnapshot = { device_id: 'a1'.repeat(32), profile: maya, partner: ben, paired: true };

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
