// The functions traced runs of duet-app used (scripts/hot-code.sh).
//
//     node functions.mjs BINARY OUT MAPS...
//
// BINARY is the program that ran (built with every function on a page of its own, so that a
// page used is a function used), OUT the list to write: one symbol name a line, in the order
// the functions had in BINARY; each MAPS is /proc/PID/maps of a run of it under touch.so, and
// a function used by any of the runs is listed. Prints how much of the code was used.
import { execFileSync } from 'node:child_process';
import { realpathSync, readFileSync, writeFileSync } from 'node:fs';

const PAGE = 4096;
const run = (tool, args) => execFileSync(tool, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
const hex = (text) => Number.parseInt(text, 16);

const [named, out, ...runs] = process.argv.slice(2);
const binary = realpathSync(named); // as /proc/PID/maps names it

// (file offset, address, size) of each loadable segment.
const segments = run('readelf', ['-lW', binary])
  .split('\n')
  .map((line) => line.trim().split(/\s+/))
  .filter((fields) => fields[0] === 'LOAD')
  .map((fields) => ({ offset: hex(fields[1]), address: hex(fields[2]), size: hex(fields[4]) }));

// Address ranges of the binary's code pages that each run used (given back their r-x).
const ranges = [];
for (const line of runs.flatMap((maps) => readFileSync(maps, 'utf8').split('\n'))) {
  const fields = line.trim().split(/\s+/);
  if (fields.length < 6 || fields[5] !== binary || fields[1] !== 'r-xp') continue;
  const [start, end] = fields[0].split('-').map(hex);
  const offset = hex(fields[2]);
  const segment = segments.find((s) => s.offset <= offset && offset < s.offset + s.size);
  if (segment) {
    const first = segment.address + offset - segment.offset;
    ranges.push([first, first + end - start]);
  }
}
// The same, sorted, with the runs' overlapping ranges merged so that each page counts once.
const used = [];
for (const range of ranges.sort((a, b) => a[0] - b[0])) {
  const last = used.at(-1);
  if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1]);
  else used.push(range);
}
if (used.length === 0) {
  console.error(`no used code of ${binary} in ${runs.join(', ')}: was the run traced?`);
  process.exit(1);
}

// The binary's functions by address; each one that overlaps a used range was used.
const functions = run('nm', ['-S', '--defined-only', binary])
  .split('\n')
  .map((line) => line.split(' '))
  .filter((fields) => fields.length === 4 && 'tTwW'.includes(fields[2]))
  .map((fields) => ({ address: hex(fields[0]), size: hex(fields[1]), name: fields[3] }))
  .sort((a, b) => a.address - b.address);

const names = [];
const seen = new Set();
let usedSize = 0;
let totalSize = 0;
let next = 0; // the first used range that may still overlap a function at or after this one
for (const { address, size, name } of functions) {
  totalSize += size;
  const last = address + Math.max(size, 1); // exclusive
  while (next < used.length && used[next][1] <= address) next++;
  if (next < used.length && used[next][0] < last && !seen.has(name)) {
    seen.add(name);
    names.push(name);
    usedSize += size;
  }
}
writeFileSync(out, names.map((name) => `${name}\n`).join(''));
const pages = used.reduce((sum, [start, end]) => sum + (end - start), 0) / PAGE;
const mb = (bytes) => (bytes / 2 ** 20).toFixed(2);
console.log(
  `${names.length} functions used, ${mb(usedSize)} MB of the ${mb(totalSize)} MB of functions (${pages} pages touched)`,
);
