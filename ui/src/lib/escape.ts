/**
 * Whether an Esc keypress closes a view that takes the main pane (`view`: Memories, Search):
 * Esc, not already handled, and not meant for something else (the status menu, a field in the
 * sidebar).
 */
export function escapeCloses(event: KeyboardEvent, view: HTMLElement | undefined): boolean {
  if (event.key !== 'Escape' || event.defaultPrevented) return false;
  const target = event.target;
  return !(target instanceof Node && target !== document.body && !view?.contains(target));
}
