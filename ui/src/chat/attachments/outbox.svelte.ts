/**
 * Files on their way out of this window (the file picker, a drop, a paste): read as bytes and
 * handed to the node, one at a time. The node hashes, seals and (for images) thumbnails them
 * before the message exists, so a big file shows here as "Preparing…" until its message
 * appears in the conversation; a refusal (too big, unreadable) stays here with the reason.
 */
import { sendFileBytes, type Target } from '../../lib/backend';
import { t } from '../../lib/i18n/index.svelte';

export interface Outgoing {
  id: number;
  name: string;
  size: number;
  state: 'sending' | 'failed';
  error?: string;
}

let ids = 0;

export class Outbox {
  items = $state<Outgoing[]>([]);

  constructor(private readonly target: Target) {}

  async send(files: readonly File[]): Promise<void> {
    for (const file of files) {
      const item: Outgoing = { id: ++ids, name: file.name || t('attachments.outbox.pastedImage'), size: file.size, state: 'sending' };
      this.items = [...this.items, item];
      let error: string | null;
      try {
        const bytes = await readBytes(file);
        const outcome = await sendFileBytes(this.target, item.name, bytes);
        error = outcome.ok ? null : outcome.error.message;
      } catch (e) {
        error = t('attachments.outbox.unreadable', { reason: e instanceof Error ? e.message : String(e) });
      }
      this.items = error
        ? this.items.map((x) => (x.id === item.id ? { ...x, state: 'failed', error } : x))
        : this.items.filter((x) => x.id !== item.id);
    }
  }

  dismiss(id: number): void {
    this.items = this.items.filter((x) => x.id !== id);
  }
}

/** A file's bytes (`FileReader` where `File.arrayBuffer` is missing, as in older engines). */
function readBytes(file: File): Promise<Uint8Array> {
  if (typeof file.arrayBuffer === 'function') return file.arrayBuffer().then((b) => new Uint8Array(b));
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(new Uint8Array(reader.result as ArrayBuffer));
    reader.onerror = () => reject(reader.error ?? new Error(t('attachments.outbox.unreadableReason')));
    reader.readAsArrayBuffer(file);
  });
}

/** Files from a drop or a paste (`null` when there are none). */
export function filesOf(data: DataTransfer | null): File[] {
  if (!data) return [];
  return Array.from(data.files ?? []);
}
