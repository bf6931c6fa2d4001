import { emit } from '@tauri-apps/api/event';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';

import { NODE_EVENT, type Verification } from '../lib/backend';
import { startNodeEvents } from '../lib/nodeEvents';
import { PARTNER } from '../test/messages';
import SafetyNumber from './SafetyNumber.svelte';

const GROUPS = ['37104', '82955', '10468', '59321', '77402', '26813', '94057', '41186', '63920', '08574', '15639', '80247'];

/** A shell that keeps my mark; `paired: false` answers as the node does before pairing. */
function shell(over: { paired?: boolean; byPartner?: boolean; refuse?: string } = {}) {
  let state: Verification = {
    partner: PARTNER,
    partner_name: 'Ben',
    safety_number: GROUPS,
    verified_by_me: false,
    verified_by_partner: over.byPartner ?? false,
  };
  const marks: boolean[] = [];
  mockIPC(
    (cmd, args) => {
      if (cmd === 'verification' || cmd === 'mark_verified') {
        if (over.paired === false) {
          throw { code: 'not_found', message: 'There is no safety number yet: it appears once your partner has joined.' };
        }
      }
      if (cmd === 'verification') return state;
      if (cmd === 'mark_verified') {
        const verified = (args as { verified: boolean }).verified;
        marks.push(verified);
        if (over.refuse) throw { code: 'store_failed', message: over.refuse };
        state = { ...state, verified_by_me: verified };
        return state;
      }
      throw new Error(`unexpected command ${cmd}`);
    },
    { shouldMockEvents: true },
  );
  return {
    marks,
    partnerMarks: () => {
      state = { ...state, verified_by_partner: true };
    },
  };
}

let stops: (() => void)[] = [];
afterEach(() => {
  cleanup();
  for (const stop of stops) stop();
  stops = [];
  clearMocks();
});

describe('the safety number', () => {
  it('shows the twelve groups and says how to compare them', async () => {
    shell();
    render(SafetyNumber);
    const number = await screen.findByTestId('safety-number');
    expect(within(number).getAllByRole('listitem').map((li) => li.textContent)).toEqual(GROUPS);
    expect(screen.getByText(/Compare these numbers with Ben in person or on a call; if they match, nobody is in between/)).toBeInTheDocument();
    expect(screen.getByTestId('verified-badge')).toHaveTextContent('Not checked yet');
    expect(screen.getByTestId('verified-by')).toHaveTextContent('Neither of you has marked it as checked yet.');
  });

  it('marks it as checked and takes the mark back', async () => {
    const { marks } = shell({ byPartner: true });
    render(SafetyNumber);
    const button = await screen.findByTestId('mark-verified');
    expect(button).toHaveTextContent('Mark as checked');
    expect(screen.getByTestId('verified-by')).toHaveTextContent('Ben checked it; you have not marked it yet.');

    await fireEvent.click(button);
    expect(await screen.findByText('Take back the mark')).toBeInTheDocument();
    expect(marks).toEqual([true]);
    expect(button).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByTestId('verified-badge')).toHaveTextContent('Checked ✓');
    expect(screen.getByTestId('verified-by')).toHaveTextContent('You and Ben both checked it ✓');

    await fireEvent.click(button);
    expect(await screen.findByText('Mark as checked')).toBeInTheDocument();
    expect(marks).toEqual([true, false]);
    expect(screen.getByTestId('verified-badge')).toHaveTextContent('Not checked yet');
  });

  it('hears my partner’s mark when the space changes', async () => {
    const { partnerMarks } = shell();
    stops.push(await startNodeEvents());
    render(SafetyNumber);
    expect(await screen.findByTestId('verified-by')).toHaveTextContent('Neither of you');
    partnerMarks();
    await emit(NODE_EVENT, { event: 'space_changed' });
    expect(await screen.findByText('Ben checked it; you have not marked it yet.')).toBeInTheDocument();
  });

  it('says a refused mark in words and keeps the number', async () => {
    shell({ refuse: 'Duet could not save your mark: the disk is full.' });
    render(SafetyNumber);
    await fireEvent.click(await screen.findByTestId('mark-verified'));
    expect(await screen.findByRole('alert')).toHaveTextContent('Duet could not save your mark: the disk is full.');
    expect(screen.getByTestId('mark-verified')).toHaveTextContent('Mark as checked');
    expect(screen.getByTestId('safety-number')).toBeInTheDocument();
  });

  it('explains, before pairing, that there is no number yet', async () => {
    shell({ paired: false });
    render(SafetyNumber);
    expect(await screen.findByTestId('safety-number-empty')).toHaveTextContent('appears once your partner has joined');
    expect(screen.queryByTestId('safety-number')).not.toBeInTheDocument();
    expect(screen.queryByTestId('mark-verified')).not.toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });
});
