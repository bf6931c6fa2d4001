#!/usr/bin/env node
/**
 * Start-up time and idle memory of the real app with a long conversation open, measured
 * through tauri-driver (run by scripts/bench-app.sh, which seeds the data and starts Xvfb and
 * the driver). Prints one line per run and a summary; asserts nothing.
 *
 * Per run:
 * - window: launch → the window "Duet" is mapped on the X server (polled with xwininfo);
 * - usable: launch → the first messages are painted, from the page's own `performance` marks
 *   (ui/src/lib/marks.ts: script running, app state answered, first messages painted), so no
 *   WebDriver polling delay is in it;
 * - after 45 s idle (long enough for the app's idle upkeep, the window's 30-second clock's first
 *   tick and the web process's memory check, every 10 s, after it: what a window left open
 *   holds), the resident memory of the app and every process under it (WebKit's web and
 *   network processes): the sum of VmRSS (counts shared pages once per process) and of Pss
 *   (shares them out; the honest total), per process with its Pss split into anonymous memory,
 *   mapped files and shared memory; and the size of the page's DOM.
 *
 * The same is measured, in the same run and the same way, for the Tauri floor
 * (bench/tauri-floor: Duet's Tauri with one static page, E2E_FLOOR): the runs alternate
 * between the two, and the summary prints what Duet adds over the floor.
 *
 * Env: E2E_APP, E2E_FLOOR (optional), E2E_PORT, DISPLAY, DUET_DATA_DIR (the app's, to find its
 * process), BENCH_RUNS (3), BENCH_IDLE_MS (45000).
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { promisify } from 'node:util';

import { Window, log, required } from './webdriver.mjs';

const run = promisify(execFile);
const APP = realpathSync(required('E2E_APP'));
const FLOOR = process.env.E2E_FLOOR ? realpathSync(process.env.E2E_FLOOR) : null;
const DATA_DIR = required('DUET_DATA_DIR');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 45000);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** pid → parent pid, for every process. */
function processTable() {
  const parents = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = read(`/proc/${name}/stat`);
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[1]) parents.set(Number(name), Number(fields[1]));
  }
  return parents;
}

/** The process of this benchmark's `binary`, started with our data directory. */
function appPid(binary) {
  for (const pid of processTable().keys()) {
    let exe = '';
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      continue;
    }
    if (exe !== binary) continue;
    if (read(`/proc/${pid}/environ`).split('\0').includes(`DUET_DATA_DIR=${DATA_DIR}`)) return pid;
  }
  return null;
}

function tree(root) {
  const parents = processTable();
  const members = [root];
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (members.includes(parent) && !members.includes(pid)) {
        members.push(pid);
        grew = true;
      }
    }
  }
  return members;
}

function kb(text, field) {
  const match = text.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return match ? Number(match[1]) : 0;
}

function memory(root) {
  const processes = tree(root).map((pid) => {
    // Read once, so the Pss and its parts come from the same moment (the kernel walks every
    // mapping of the process for each read).
    const rollup = read(`/proc/${pid}/smaps_rollup`);
    return {
      pid,
      name: read(`/proc/${pid}/comm`).trim(),
      rss: kb(read(`/proc/${pid}/status`), 'VmRSS'),
      pss: kb(rollup, 'Pss'),
      // Of the Pss: anonymous memory (heaps), mapped files (mostly shared libraries' code) and
      // shared memory (in the app process, the window's pixels on their way to the X server).
      anon: kb(rollup, 'Pss_Anon'),
      file: kb(rollup, 'Pss_File'),
      shmem: kb(rollup, 'Pss_Shmem'),
    };
  });
  const sum = (key) => processes.reduce((total, p) => total + p[key], 0);
  return { processes, rssMb: sum('rss') / 1024, pssMb: sum('pss') / 1024 };
}

async function windowMapped(title, since, stop) {
  const mapped = new RegExp(`"${title}( \\(\\d+\\))?": .* \\d+x\\d+\\+`);
  while (!stop.done) {
    const { stdout } = await run('xwininfo', ['-root', '-tree']).catch(() => ({ stdout: '' }));
    if (mapped.test(stdout)) return performance.now() - since;
    await sleep(20);
  }
  return NaN;
}

/**
 * Launches `app` through WebDriver and waits for its window titled `title` to be mapped and for
 * the element `testId` to be on the page, then idles; returns the window, the timings (ms from
 * launch) and the memory of the app's processes after the idle time.
 */
async function launch(name, app, title, testId) {
  const window = new Window(name, required('E2E_PORT'), { app, patience: 60_000 });
  const stop = { done: false };
  const launchedAt = Date.now();
  const t0 = performance.now();
  const mapped = windowMapped(title, t0, stop);
  await window.open();
  const session = performance.now() - t0;
  await window.testId(testId);
  const found = performance.now() - t0;
  stop.done = true;
  const windowMs = await mapped;
  await sleep(IDLE_MS);
  const pid = appPid(app);
  const mem = pid ? memory(pid) : null;
  return { window, launchedAt, session, found, windowMs, mem };
}

/** The Tauri floor: one window, one static page (bench/tauri-floor). */
async function floorOnce(index) {
  const { window, found, windowMs, mem } = await launch('floor', FLOOR, 'Tauri floor', 'floor');
  await window.close();
  await sleep(1000);
  log(`floor run ${index}: window ${windowMs.toFixed(0)} ms, page found ${found.toFixed(0)} ms; ${describe(mem)}`);
  return { windowMs, rss: mem?.rssMb ?? NaN, pss: mem?.pssMb ?? NaN };
}

const mb = (k, digits = 0) => (k / 1024).toFixed(digits);

function describe(mem) {
  if (!mem) return 'app process not found';
  const rows = mem.processes.map((p) => `${p.name} ${mb(p.rss)}/${mb(p.pss)} (anon ${mb(p.anon)}, files ${mb(p.file)}, shared ${mb(p.shmem, 1)})`);
  return `idle RSS ${mem.rssMb.toFixed(1)} MB, PSS ${mem.pssMb.toFixed(1)} MB (RSS/PSS MB: ${rows.join(', ')})`;
}

async function once(index) {
  const { window, launchedAt, session, found: usable, windowMs, mem } = await launch('bench', APP, 'Duet', 'message');
  // The page's own marks (ui/src/lib/marks.ts), on the wall clock: no polling delay in them.
  const marks = await window.script(
    'return { origin: performance.timeOrigin, marks: performance.getEntriesByType("mark").map((m) => [m.name, m.startTime]) }',
  );
  const at = (name) => {
    const mark = marks.marks.find(([n]) => n === name);
    return mark ? marks.origin + mark[1] - launchedAt : NaN;
  };
  const page = { script: at('duet:script'), state: at('duet:state'), painted: at('duet:first-messages') };
  const dom = await window.script(
    'return [document.getElementsByTagName("*").length, document.querySelectorAll("[data-testid=message]").length]',
  );
  await window.close();
  await sleep(1000);
  log(
    `run ${index}: window ${windowMs.toFixed(0)} ms, page script ${page.script.toFixed(0)} ms, state ${page.state.toFixed(0)} ms, ` +
      `first messages painted ${page.painted.toFixed(0)} ms (WebDriver: session ${session.toFixed(0)} ms, row found ${usable.toFixed(0)} ms); ` +
      `${describe(mem)}; DOM: ${dom[0]} elements, ${dom[1]} message rows`,
  );
  return { windowMs, painted: page.painted, rss: mem?.rssMb ?? NaN, pss: mem?.pssMb ?? NaN };
}

// Alternating, so a machine that gets busier or quieter during the run weighs on both alike.
const results = [];
const floors = [];
for (let i = 1; i <= RUNS; i++) {
  if (FLOOR) floors.push(await floorOnce(i));
  results.push(await once(i));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const duet = {
  windowMs: median(results.map((r) => r.windowMs)),
  painted: median(results.map((r) => r.painted)),
  rss: median(results.map((r) => r.rss)),
  pss: median(results.map((r) => r.pss)),
};
log(
  `Duet, median of ${RUNS}: window mapped ${duet.windowMs.toFixed(0)} ms, first messages painted ${duet.painted.toFixed(0)} ms, ` +
    `idle RSS ${duet.rss.toFixed(1)} MB, PSS ${duet.pss.toFixed(1)} MB`,
);
if (FLOOR) {
  const floor = { windowMs: median(floors.map((r) => r.windowMs)), pss: median(floors.map((r) => r.pss)) };
  log(`Tauri floor, median of ${RUNS}: window mapped ${floor.windowMs.toFixed(0)} ms, idle PSS ${floor.pss.toFixed(1)} MB`);
  log(
    `Duet over the floor: PSS +${(duet.pss - floor.pss).toFixed(1)} MB (target ≤ +25 MB); ` +
      `window mapped ${duet.windowMs.toFixed(0)} ms (target ≤ 500 ms)`,
  );
}
