import { describe, expect, it } from 'vitest';

import { markPath } from './mark';

/** The numbers of a `path("…")`, as x, y pairs. */
function points(path: string): [number, number][] {
  const numbers = path.match(/-?\d+(\.\d+)?/g)!.map(Number);
  const pairs: [number, number][] = [];
  for (let i = 0; i < numbers.length; i += 2) pairs.push([numbers[i]!, numbers[i + 1]!]);
  return pairs;
}

describe("the app's mark", () => {
  it("is the icon's paths with its view box moved to the corner and scaled to the size", () => {
    // At 340 px, the view box's own width: the icon's numbers less its origin (86, 131).
    expect(markPath('back', 340)).toMatch(/^path\("M 250\.00 156\.80 L 238\.40 146\.20 C /);
    expect(markPath('front', 340)).toMatch(/Z"\)$/);
    // At 34 px everything is a tenth: the front heart's tip (196, 370.5) is at (11, 23.95).
    expect(points(markPath('front', 34))[0]).toEqual([11, 23.95]);
  });

  it('parts the hearts with the front one grown by the stroke of the icon', () => {
    const front = points(markPath('front', 340));
    const gap = points(markPath('gap', 340));
    const xs = (p: [number, number][]) => p.map(([x]) => x);
    const ys = (p: [number, number][]) => p.map(([, y]) => y);
    // The icon strokes the front heart 12 units wide: 6 outside on each side.
    expect(Math.min(...xs(front)) - Math.min(...xs(gap))).toBeCloseTo(6, 5);
    expect(Math.max(...xs(gap)) - Math.max(...xs(front))).toBeCloseTo(6, 5);
    expect(Math.max(...ys(gap))).toBeGreaterThan(Math.max(...ys(front)));
  });
});

describe('the window', () => {
  it('draws no inline <svg> (one maps WebKit’s SVG engine into the page: ~2 MB)', () => {
    const components = import.meta.glob('../**/*.svelte', { query: '?raw', import: 'default', eager: true });
    const names = Object.keys(components);
    expect(names.length).toBeGreaterThan(50);
    const drawing = names.filter((name) => /<svg[\s>]/.test(components[name] as string));
    expect(drawing).toEqual([]);
  });
});
