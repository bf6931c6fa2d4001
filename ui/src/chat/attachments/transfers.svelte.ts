/**
 * Where each attachment's content stands on this device, from the node's blob events:
 * arriving (`blob_progress`: done of total bytes), here (`blob_complete`), failed
 * (`blob_failed`, with the reason), and on the sender's side how much my partner's device
 * has taken (`blob_served`). A blob seen for the first time is asked about once
 * (`blob_status`), so an attachment that arrived while the window was closed shows as here.
 *
 * Complete blobs are read once and kept as object URLs for <img> and <audio>.
 */
import { SvelteMap } from 'svelte/reactivity';

import { blobStatus, fetchAttachment, readBlob, type AppEvent, type BlobHash, type MessageId } from '../../lib/backend';
import { t } from '../../lib/i18n/index.svelte';

export type Transfer =
  | { state: 'unknown' }
  | { state: 'arriving'; done: number; total: number }
  | { state: 'here'; sent?: { done: number; total: number } }
  | { state: 'failed'; reason: string };

export class Transfers {
  readonly byHash = new SvelteMap<BlobHash, Transfer>();
  private readonly asked = new Set<BlobHash>();
  private readonly urls = new Map<BlobHash, Promise<string | null>>();

  handle(event: AppEvent): void {
    switch (event.event) {
      case 'blob_progress':
        if (this.get(event.blob).state !== 'here') {
          this.byHash.set(event.blob, { state: 'arriving', done: event.done, total: event.total });
        }
        break;
      case 'blob_complete':
        this.byHash.set(event.blob, { state: 'here' });
        break;
      case 'blob_failed':
        this.byHash.set(event.blob, { state: 'failed', reason: event.reason });
        break;
      case 'blob_served':
        this.byHash.set(event.blob, { state: 'here', sent: { done: event.done, total: event.total } });
        break;
    }
  }

  /** Forgets everything (a new profile, tests). */
  clear(): void {
    this.byHash.clear();
    this.asked.clear();
    this.urls.clear();
  }

  get(hash: BlobHash): Transfer {
    return this.byHash.get(hash) ?? { state: 'unknown' };
  }

  /** Asks the node once how much of `hash` is here (for blobs no event has named yet). */
  async check(hash: BlobHash): Promise<void> {
    if (this.asked.has(hash) || this.byHash.has(hash)) return;
    this.asked.add(hash);
    const outcome = await blobStatus(hash);
    if (!outcome.ok || !outcome.value || this.byHash.get(hash)?.state === 'here') return;
    const { have, size } = outcome.value;
    this.byHash.set(hash, have >= size ? { state: 'here' } : { state: 'arriving', done: have, total: size });
  }

  /** Fetches an attachment that does not come by itself (a big one). */
  async fetch(message: MessageId, index: number, hash: BlobHash, size: number): Promise<string | null> {
    this.byHash.set(hash, { state: 'arriving', done: 0, total: size });
    const outcome = await fetchAttachment(message, index);
    if (!outcome.ok) {
      // Not here yet is a wait, not a failure: said as such, whatever the node's words.
      const reason =
        outcome.error.code === 'blob_not_here'
          ? t('attachments.transfers.notHere')
          : outcome.error.message;
      this.byHash.set(hash, { state: 'failed', reason });
      return reason;
    }
    this.byHash.set(hash, { state: 'here' });
    return null;
  }

  /** An object URL of a complete blob (`null` if it cannot be read). */
  url(hash: BlobHash, type: string): Promise<string | null> {
    let url = this.urls.get(hash);
    if (!url) {
      url = readBlob(hash).then((o) => (o.ok ? URL.createObjectURL(new Blob([o.value as BlobPart], { type })) : null));
      this.urls.set(hash, url);
      void url.then((u) => u ?? this.urls.delete(hash));
    }
    return url;
  }
}

export const transfers = new Transfers();

/** "2.4 MB", "830 KB", "12 bytes" (shared: `lib/text.ts`). */
export { fileSize } from '../../lib/text';

/** `0:07`, `1:32`. */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A MIME type for an attachment's name (for <img>/<audio> object URLs). */
export function mimeOf(name: string): string {
  const ext = name.split('.').pop()?.toLowerCase() ?? '';
  const types: Record<string, string> = {
    png: 'image/png',
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    gif: 'image/gif',
    webp: 'image/webp',
    ogg: 'audio/ogg',
    opus: 'audio/ogg',
    oga: 'audio/ogg',
  };
  return types[ext] ?? 'application/octet-stream';
}
