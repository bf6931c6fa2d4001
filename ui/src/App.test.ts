/**
 * The window as a person sees it, for each thing the shell can answer to `local_profile`.
 * The IPC is mocked with Tauri's own `mockIPC`, so the real backend module runs.
 */
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import App from './App.svelte';
import type { Person } from './lib/backend';
import personJson from './lib/backend/fixtures/person.json';

const personFixture: Person = personJson as Person;

const PERSON_ID = '3f9a1c07d2e845b6a1c0ffee1234567890abcdef1234567890abcdef0badb2e4';

function backendAnswers(answer: (cmd: string) => unknown) {
  const calls: string[] = [];
  mockIPC((cmd) => {
    calls.push(cmd);
    return answer(cmd);
  });
  return calls;
}

afterEach(() => {
  clearMocks();
});

describe('the Duet window', () => {
  it('welcomes a person who has no profile yet and says what comes next', async () => {
    const calls = backendAnswers(() => null);
    render(App);

    expect(await screen.findByRole('heading', { name: 'Welcome to Duet' })).toBeInTheDocument();
    expect(calls).toEqual(['local_profile']);
    expect(screen.getByText(/Create your profile to begin; invite your partner next/)).toBeVisible();
    expect(screen.getByRole('heading', { name: 'Invite your partner' })).toBeInTheDocument();

    // No pretend button: it is disabled, and it says why.
    const create = screen.getByRole('button', { name: 'Create your profile' });
    expect(create).toBeDisabled();
    expect(create).toHaveAccessibleDescription(/Profile creation arrives with pairing/);
    expect(screen.queryByText('Your profile')).not.toBeInTheDocument();
  });

  it('shows the profile the backend returns', async () => {
    // The same file the shell's Rust test serializes a Person against.
    backendAnswers(() => personFixture);
    render(App);

    expect(await screen.findByRole('heading', { name: 'Maya' })).toBeInTheDocument();
    expect(screen.getByRole('img', { name: 'Avatar 💛' })).toHaveTextContent('💛');
    expect(screen.getByTestId('device-count')).toHaveTextContent('2 devices');
    const id = screen.getByText('3f9a1c07…b2e4');
    expect(id).toHaveAttribute('title', PERSON_ID);
    expect(screen.queryByRole('heading', { name: 'Welcome to Duet' })).not.toBeInTheDocument();
  });

  it('shows an initial for an image avatar and counts one device in the singular', async () => {
    backendAnswers(() => ({
      id: PERSON_ID,
      display_name: 'élodie',
      avatar: { kind: 'image', value: 'cd'.repeat(32) },
      devices: ['aa'.repeat(32)],
    }));
    render(App);

    expect(await screen.findByRole('heading', { name: 'élodie' })).toBeInTheDocument();
    expect(screen.getByText('É')).toBeInTheDocument();
    expect(screen.getByTestId('device-count')).toHaveTextContent(/^1 device$/);
  });

  it('explains a store error in plain words and can try again', async () => {
    let failing = true;
    backendAnswers(() => {
      if (failing) {
        throw { code: 'store_unavailable', message: 'Duet could not open its data in /nowhere.' };
      }
      return null;
    });
    render(App);

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Duet could not open your profile');
    expect(alert).toHaveTextContent('Duet could not open its data in /nowhere.');
    expect(alert).toHaveTextContent('store_unavailable');

    failing = false;
    screen.getByRole('button', { name: 'Try again' }).click();
    expect(await screen.findByRole('heading', { name: 'Welcome to Duet' })).toBeInTheDocument();
  });

  it('says the app is not running when the page is opened without the backend', async () => {
    render(App);

    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Duet’s app is not running');
    expect(screen.queryByRole('button', { name: 'Try again' })).not.toBeInTheDocument();
  });
});
