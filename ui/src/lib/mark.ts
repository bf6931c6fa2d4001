/**
 * The app icon's two hearts (src-tauri/icons/icon.svg, view box `86 131 340 250`) as CSS
 * `path()`s for a mark `size` pixels wide (lib/DuetMark.svelte).
 */

const VIEW = { x: 86, y: 131, width: 340, height: 250 };

const BACK =
  'M 336.0 287.8 L 324.4 277.2 C 283.2 239.9 256.0 215.2 256.0 185.0 C 256.0 160.4 275.4 141.0 300.0 141.0 C 313.9 141.0 327.3 147.5 336.0 157.7 C 344.7 147.5 358.1 141.0 372.0 141.0 C 396.6 141.0 416.0 160.4 416.0 185.0 C 416.0 215.2 388.8 239.9 347.6 277.3 L 336.0 287.8 Z';
const FRONT =
  'M 196.0 370.5 L 181.5 357.3 C 130.0 310.6 96.0 279.8 96.0 242.0 C 96.0 211.2 120.2 187.0 151.0 187.0 C 168.4 187.0 185.1 195.1 196.0 207.9 C 206.9 195.1 223.6 187.0 241.0 187.0 C 271.8 187.0 296.0 211.2 296.0 242.0 C 296.0 279.8 262.0 310.6 210.5 357.4 L 196.0 370.5 Z';

/** The front heart's box (x 96–296, y 187–370.5) and the icon's stroke around it (12 units). */
const FRONT_CENTRE = { x: 196, y: 278.75 };
const GAP_GROWTH = (200 + 12) / 200;

/** Maps every x, y pair of a path of absolute commands and numbers. */
function mapPath(d: string, map: (x: number, y: number) => [number, number]): string {
  const out: string[] = [];
  const tokens = d.split(/\s+/);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (/^[A-Za-z]$/.test(token)) {
      out.push(token);
      continue;
    }
    const [x, y] = map(Number(token), Number(tokens[++i]));
    out.push(x.toFixed(2), y.toFixed(2));
  }
  return out.join(' ');
}

/** The mark's height in pixels when it is `size` pixels wide. */
export function markHeight(size: number): number {
  return Math.round((size * VIEW.height) / VIEW.width);
}

export type MarkPart = 'back' | 'gap' | 'front';

/** `path("…")` for one part of the mark, `size` pixels wide. */
export function markPath(part: MarkPart, size: number): string {
  const k = size / VIEW.width;
  const grow = part === 'gap' ? GAP_GROWTH : 1;
  const d = mapPath(part === 'back' ? BACK : FRONT, (x, y) => [
    (FRONT_CENTRE.x + (x - FRONT_CENTRE.x) * grow - VIEW.x) * k,
    (FRONT_CENTRE.y + (y - FRONT_CENTRE.y) * grow - VIEW.y) * k,
  ]);
  return `path("${d}")`;
}
