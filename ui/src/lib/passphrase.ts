/**
 * The rule for a new passphrase (the data's, or a backup's), as the node checks it
 * (duet-store `vault.rs`): at least 8 characters (Unicode scalar values, as Rust counts
 * them), at most 1,024 bytes, and typed twice alike. Checked here first so the person reads
 * why at once, next to the field it is about.
 */
import { t } from './i18n/index.svelte';

export const MIN_PASSPHRASE_CHARS = 8;
export const MAX_PASSPHRASE_BYTES = 1024;

/** Which of the two fields a refusal is about. */
export type PassphraseField = 'first' | 'again';

/** Why `passphrase` (typed again as `again`) cannot be chosen, in words; `null` when it can. */
export function passphraseRefusal(passphrase: string, again: string): { words: string; field: PassphraseField } | null {
  if ([...passphrase].length < MIN_PASSPHRASE_CHARS) {
    return { words: t('common.passphrase.tooShort', { min: MIN_PASSPHRASE_CHARS }), field: 'first' };
  }
  if (new TextEncoder().encode(passphrase).length > MAX_PASSPHRASE_BYTES) {
    return { words: t('common.passphrase.tooLong'), field: 'first' };
  }
  if (again !== passphrase) return { words: t('common.passphrase.differ'), field: 'again' };
  return null;
}
