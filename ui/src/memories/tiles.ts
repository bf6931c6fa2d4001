/**
 * A memory's tiles: one for each photo, video or sound of its message (a file that is not
 * media, a PDF, is not a memory), in the order they were attached.
 */
import type { Attachment, Memory, Thumbnail } from '../lib/backend';
import { t } from '../lib/i18n/index.svelte';

export type TileKind = 'image' | 'video' | 'voice' | 'audio';

export interface Tile {
  /** `<message id>:<attachment index>`. */
  key: string;
  memory: Memory;
  attachment: Attachment;
  /** The attachment's index in its message (for `fetchAttachment`). */
  index: number;
  kind: TileKind;
  /** A voice note's length, when the sender measured it. */
  durationMs: number | null;
  thumbnail: Thumbnail | null;
  /** An image's size, when the sender measured it. */
  size: { width: number; height: number } | null;
}

export function tileKind(a: Attachment): TileKind | null {
  switch (a.type) {
    case 'image':
      return 'image';
    case 'video':
      return 'video';
    case 'audio':
      return a.media && 'voice' in a.media ? 'voice' : 'audio';
    default:
      return null;
  }
}

export function tilesOf(memory: Memory): Tile[] {
  const out: Tile[] = [];
  memory.message.attachments.forEach((attachment, index) => {
    const kind = tileKind(attachment);
    if (!kind) return;
    const media = attachment.media;
    const image = media && 'image' in media ? media.image : null;
    const voice = media && 'voice' in media ? media.voice : null;
    out.push({
      key: `${memory.message.id}:${index}`,
      memory,
      attachment,
      index,
      kind,
      durationMs: voice ? voice.duration_ms : null,
      thumbnail: image?.thumbnail ?? null,
      size: image ? { width: image.width, height: image.height } : null,
    });
  });
  return out;
}

/** Whether a message belongs in the memories (as the node decides). */
export function isMemory(attachments: readonly Attachment[]): boolean {
  return attachments.some((a) => tileKind(a) !== null);
}

/** What a tile is, in words: "Photo", "Video", "Voice message", "Sound". */
export function kindText(kind: TileKind): string {
  return t(`memories.kind.${kind}`);
}

/** "Loading photo…": a tile's content on its way, in words. */
export function loadingText(kind: TileKind): string {
  return t(`memories.viewer.loading.${kind}`);
}

/** The icon of a tile without a picture. */
export function kindIcon(kind: TileKind): string {
  return { image: '🖼', video: '🎬', voice: '🎤', audio: '🎵' }[kind];
}
