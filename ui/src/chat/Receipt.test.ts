import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';

import { fullTime } from '../lib/time';
import { ME, at, msg } from '../test/messages';
import Receipt from './Receipt.svelte';

const sentAt = at(20, 0);
const deliveredAt = at(20, 1);
const readAt = at(20, 5);

describe('the tick after my message', () => {
  it('shows a clock while the message is being sent', () => {
    render(Receipt, { entry: { message: msg({ created_at: sentAt, sender: ME }), pending: { state: 'sending' } } });
    expect(screen.getByRole('img', { name: 'Sending…' })).toHaveAttribute('data-state', 'sending');
    expect(screen.queryByTestId('read-tick')).not.toBeInTheDocument();
  });

  it('says a stored message is not delivered yet', () => {
    render(Receipt, { entry: { message: msg({ created_at: sentAt, sender: ME }) } });
    expect(screen.getByRole('img')).toHaveAttribute('title', 'Sent, not delivered yet');
  });

  it('shows ✓ with the delivery time once delivered', () => {
    render(Receipt, {
      entry: { message: msg({ created_at: sentAt, sender: ME, delivered: true, delivered_at: deliveredAt }) },
    });
    const tick = screen.getByRole('img');
    expect(tick).toHaveAttribute('data-state', 'delivered');
    expect(tick).toHaveAttribute('title', `Delivered ${fullTime(deliveredAt)}`);
    expect(tick).toHaveAccessibleName(`Delivered ${fullTime(deliveredAt)}`);
    expect(screen.queryByTestId('read-tick')).not.toBeInTheDocument();
  });

  it('shows ✓✓ (the read tick) with both times once read', () => {
    render(Receipt, {
      entry: {
        message: msg({
          created_at: sentAt,
          sender: ME,
          delivered: true,
          delivered_at: deliveredAt,
          read: true,
          read_at: readAt,
        }),
      },
    });
    const tick = screen.getByTestId('read-tick');
    expect(tick).toHaveAttribute('title', `Read ${fullTime(readAt)} · delivered ${fullTime(deliveredAt)}`);
    expect(tick.querySelectorAll('path')).toHaveLength(2);
  });

  it('shows nothing for a failed send (the row says why, with a retry)', () => {
    const { container } = render(Receipt, {
      entry: { message: msg({ created_at: sentAt, sender: ME }), pending: { state: 'failed', error: 'offline' } },
    });
    expect(container.querySelector('.receipt')).toBeNull();
  });
});
