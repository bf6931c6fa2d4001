/**
 * One stream of call video (the partner's, or my own preview): keeps the newest frame and
 * hands each new one to whoever paints it (`VideoCanvas`). Frames arrive faster than Svelte
 * should re-render, so this is plain JavaScript, not reactive state.
 */
import type { VideoFrame } from '../lib/backend';

export class FrameFeed {
  latest: VideoFrame | null = null;
  count = 0;
  private readonly painters = new Set<(frame: VideoFrame) => void>();

  push = (frame: VideoFrame): void => {
    this.latest = frame;
    this.count += 1;
    for (const paint of this.painters) paint(frame);
  };

  /** Calls `paint` with the newest frame now (if any) and every next one; returns a stop. */
  subscribe(paint: (frame: VideoFrame) => void): () => void {
    this.painters.add(paint);
    if (this.latest) paint(this.latest);
    return () => this.painters.delete(paint);
  }

  clear(): void {
    this.latest = null;
    this.count = 0;
  }
}
