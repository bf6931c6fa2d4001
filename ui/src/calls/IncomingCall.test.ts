import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import { language } from '../lib/i18n/index.svelte';
import { PARTNER } from '../test/messages';
import { callSession } from './callSession.svelte';
import { callInfo } from './fixtures';
import IncomingCall from './IncomingCall.svelte';

afterEach(() => {
  cleanup();
  clearMocks();
  callSession.close();
  language.choose('system');
});

const nameOf = (id: string) => (id === PARTNER ? 'Ben' : 'You');
const ringing = callInfo({ direction: 'incoming', phase: 'ringing', caller: PARTNER, kind: 'video' });

describe('the incoming-call dialog', () => {
  it('shows who calls and how, and answers on Accept', async () => {
    const seen: string[] = [];
    mockIPC((cmd) => {
      seen.push(cmd);
      if (cmd === 'answer_call') return { call: { ...ringing, phase: 'connecting' }, notices: [], test_tone: false, camera: true };
      return null;
    });
    render(IncomingCall, { nameOf });
    expect(screen.queryByTestId('incoming-call')).not.toBeInTheDocument();

    callSession.handle({ event: 'call', call: ringing });
    const dialog = await screen.findByRole('alertdialog', { name: 'Ben is calling' });
    expect(dialog).toHaveTextContent('Video call');
    expect(screen.getByTestId('call-accept')).toHaveFocus();

    await fireEvent.click(screen.getByTestId('call-accept'));
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toContain('answer_call');
    expect(screen.queryByTestId('incoming-call')).not.toBeInTheDocument();
  });

  it('declines on Decline and on Esc, and goes away when the caller gives up', async () => {
    const seen: string[] = [];
    mockIPC((cmd) => {
      seen.push(cmd);
      return null;
    });
    render(IncomingCall, { nameOf });
    callSession.handle({ event: 'call', call: ringing });
    await fireEvent.click(await screen.findByTestId('call-decline'));
    expect(seen).toEqual(['decline_call']);
    await fireEvent.keyDown(screen.getByTestId('incoming-call'), { key: 'Escape' });
    expect(seen).toEqual(['decline_call', 'decline_call']);

    callSession.handle({ event: 'call', call: { ...ringing, phase: 'ended', outcome: 'cancelled' } });
    await new Promise((r) => setTimeout(r, 0));
    expect(screen.queryByTestId('incoming-call')).not.toBeInTheDocument();
  });

  it('speaks French when the window does, and follows a change of language at once', async () => {
    mockIPC(() => null);
    language.choose('fr');
    render(IncomingCall, { nameOf });
    callSession.handle({ event: 'call', call: ringing });
    const dialog = await screen.findByRole('alertdialog', { name: 'Ben vous appelle' });
    expect(dialog).toHaveTextContent('Appel vidéo');
    expect(screen.getByTestId('call-accept')).toHaveTextContent('Répondre');
    expect(screen.getByTestId('call-decline')).toHaveTextContent('Refuser');

    language.choose('en');
    await new Promise((r) => setTimeout(r, 0));
    expect(screen.getByRole('alertdialog', { name: 'Ben is calling' })).toHaveTextContent('Video call');
  });

  it('says why answering failed', async () => {
    mockIPC((cmd) => {
      if (cmd === 'answer_call') throw { code: 'not_allowed', message: 'The call was already answered on another device.' };
      return null;
    });
    render(IncomingCall, { nameOf });
    callSession.handle({ event: 'call', call: ringing });
    await fireEvent.click(await screen.findByTestId('call-accept'));
    expect(await screen.findByRole('alert')).toHaveTextContent('The call was already answered on another device.');
  });
});
