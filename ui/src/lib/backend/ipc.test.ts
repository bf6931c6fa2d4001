import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, describe, expect, it } from 'vitest';

import { localProfile } from '.';

afterEach(() => {
  clearMocks();
});

describe('backend calls', () => {
  it('pass the shell’s error code and message through unchanged', async () => {
    mockIPC(() => {
      throw { code: 'store_failed', message: 'The local database could not be read.' };
    });
    expect(await localProfile()).toEqual({
      ok: false,
      error: { code: 'store_failed', message: 'The local database could not be read.' },
    });
  });

  it('turn an answer that is not a Duet error into backend_failed, without throwing', async () => {
    mockIPC(() => {
      throw 'Command local_profile not found';
    });
    const outcome = await localProfile();
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error.code).toBe('backend_failed');
    expect(!outcome.ok && outcome.error.message).toContain('Command local_profile not found');
  });

  it('report backend_unavailable outside the desktop app', async () => {
    const outcome = await localProfile();
    expect(!outcome.ok && outcome.error.code).toBe('backend_unavailable');
  });
});
