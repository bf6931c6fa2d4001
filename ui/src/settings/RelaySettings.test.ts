import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import RelaySettings from './RelaySettings.svelte';

const RELAY = '/ip4/198.51.100.1/tcp/4001/p2p/12D3KooWGScw98DMNxshDumQoMhFL5rbdjk7qDfwe3Ksdp3t66n9';

/** A shell that keeps the chosen relays and refuses an address without a peer id. */
function shell(initial: string[]) {
  let kept = initial;
  const asked: string[][] = [];
  mockIPC((cmd, args) => {
    if (cmd === 'relays') return kept;
    if (cmd === 'set_relays') {
      const wanted = (args as { relays: string[] }).relays;
      asked.push(wanted);
      const bad = wanted.find((r) => !r.includes('/p2p/'));
      if (bad) throw { code: 'invalid_input', message: `"${bad}" cannot be used as a relay: it must end with /p2p/<peer id>` };
      kept = wanted;
      return kept;
    }
    throw new Error(`unexpected command ${cmd}`);
  });
  return asked;
}

afterEach(() => {
  cleanup();
  clearMocks();
});

describe('relay settings', () => {
  it('says there is no relay, and saves one pasted with spaces and blank lines', async () => {
    const asked = shell([]);
    render(RelaySettings);
    expect(await screen.findByText(/No relay: Duet finds your partner/)).toBeInTheDocument();
    const save = screen.getByRole('button', { name: 'Save relays' });
    expect(save).toBeDisabled();

    await fireEvent.input(screen.getByTestId('relays-field'), { target: { value: `\n  ${RELAY}  \n\n` } });
    expect(save).toBeEnabled();
    await fireEvent.click(save);
    expect(await screen.findByText('Saved. Duet listens through this relay.')).toBeInTheDocument();
    expect(asked).toEqual([[RELAY]]);
    expect(screen.getByTestId('relays-field')).toHaveValue(RELAY);
  });

  it('shows a refused address in words and keeps what was typed', async () => {
    shell([RELAY]);
    render(RelaySettings);
    expect(await screen.findByText('Duet listens through this relay.')).toBeInTheDocument();
    const typed = `${RELAY}\n/ip4/198.51.100.9/tcp/4001`;
    await fireEvent.input(screen.getByTestId('relays-field'), { target: { value: typed } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save relays' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('must end with /p2p/<peer id>');
    expect(screen.getByTestId('relays-field')).toHaveValue(typed);
    expect(screen.getByTestId('relays-field')).toHaveAttribute('aria-invalid', 'true');
  });
});
