/**
 * Start-up milestones as `performance` marks, read by the app benchmark (ui/e2e/bench.mjs) to
 * time launch → script running → first messages painted without polling the page.
 */
const done = new Set<string>();

/** Marks `name` once per page load, when the next frame is painted. */
export function markOnce(name: string): void {
  if (done.has(name) || typeof performance === 'undefined' || typeof requestAnimationFrame === 'undefined') return;
  done.add(name);
  requestAnimationFrame(() => performance.mark(name));
}
