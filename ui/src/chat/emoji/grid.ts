/**
 * Arrow keys in the picker's grid: sections (recently used, a group, the results; none empty)
 * laid out in rows of `columns`, one index running through them all. ↓ from a section's last
 * row goes to the next section's first, ↑ from its first row to the previous one's last; ↑ on
 * the very first row leaves the grid (-1: back to the search field), ↓ on the very last stays.
 */

/** Emoji in a row of the grid (`EmojiPanel`'s `.cells` has as many columns). */
export const COLUMNS = 8;

export function moveInGrid(sizes: readonly number[], index: number, key: string, columns: number): number {
  const starts: number[] = [];
  let total = 0;
  for (const size of sizes) {
    starts.push(total);
    total += size;
  }
  if (total === 0) return -1;
  if (key === 'ArrowRight') return Math.min(index + 1, total - 1);
  if (key === 'ArrowLeft') return Math.max(index - 1, 0);
  if (key === 'Home') return 0;
  if (key === 'End') return total - 1;

  let section = 0;
  while (section < sizes.length - 1 && index >= starts[section + 1]!) section += 1;
  const start = starts[section]!;
  const size = sizes[section]!;
  const local = index - start;
  const column = local % columns;
  const lastRow = (n: number) => Math.floor((n - 1) / columns);

  if (key === 'ArrowDown') {
    if (local + columns < size) return index + columns;
    // A shorter row below takes its last item.
    if (Math.floor(local / columns) < lastRow(size)) return start + size - 1;
    if (section === sizes.length - 1) return index;
    return starts[section + 1]! + Math.min(column, sizes[section + 1]! - 1);
  }
  if (key === 'ArrowUp') {
    if (local >= columns) return index - columns;
    if (section === 0) return -1;
    const previous = sizes[section - 1]!;
    return starts[section - 1]! + Math.min(lastRow(previous) * columns + column, previous - 1);
  }
  return index;
}
