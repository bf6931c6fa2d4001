import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';

import { Outbox } from './outbox.svelte';

afterEach(() => clearMocks());

describe('the outbox', () => {
  it('sends a file’s bytes and forgets it once sent; keeps a refusal with its reason', async () => {
    const sent: unknown[] = [];
    mockIPC((cmd, body) => {
      if (cmd !== 'send_file_bytes') return null;
      sent.push(body);
      if (sent.length === 2) throw { code: 'invalid_input', message: 'huge.bin is 200 MB: the limit is 100 MB.' };
      return {};
    });
    const outbox = new Outbox('direct');
    const photo = new File([new Uint8Array([137, 80, 78, 71])], 'photo.png', { type: 'image/png' });
    const huge = new File([new Uint8Array([1])], 'huge.bin');
    await outbox.send([photo, huge]);
    expect(sent[0]).toEqual(new Uint8Array([137, 80, 78, 71]));
    expect(outbox.items).toHaveLength(1);
    expect(outbox.items[0]).toMatchObject({ name: 'huge.bin', state: 'failed', error: 'huge.bin is 200 MB: the limit is 100 MB.' });
    outbox.dismiss(outbox.items[0]!.id);
    expect(outbox.items).toHaveLength(0);
  });
});
