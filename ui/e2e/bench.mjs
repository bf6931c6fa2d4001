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
 * - after 5 s idle, the resident memory of the app and every process under it (WebKit's web
 *   and network processes): the sum of VmRSS (counts shared pages once per process) and of
 *   Pss (shares them out; the honest total), per process with its Pss split into anonymous
 *   memory and mapped files; and the size of the page's DOM.
 *
 * Env: E2E_APP, E2E_PORT, DISPLAY, DUET_DATA_DIR (the app's, to find its process),
 * BENCH_RUNS (3), BENCH_IDLE_MS (5000).
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { promisify } from 'node:util';

import { Window, log, required } from './webdriver.mjs';

const run = promisify(execFile);
const APP = realpathSync(required('E2E_APP'));
const DATA_DIR = required('DUET_DATA_DIR');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const IDLE_MS = Number(process.env.BENCH_IDLE_MS ?? 5000);

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

/** The app process of this benchmark: our binary, with our data directory. */
function appPid() {
  for (const pid of processTable().keys()) {
    let exe = '';
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      continue;
    }
    if (exe !== APP) continue;
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
  const processes = tree(root).map((pid) => ({
    pid,
    name: read(`/proc/${pid}/comm`).trim(),
    rss: kb(read(`/proc/${pid}/status`), 'VmRSS'),
    pss: kb(read(`/proc/${pid}/smaps_rollup`), 'Pss'),
    // Of the Pss: anonymous memory (heaps) and mapped files (mostly shared libraries' code).
    anon: kb(read(`/proc/${pid}/smaps_rollup`), 'Pss_Anon'),
    file: kb(read(`/proc/${pid}/smaps_rollup`), 'Pss_File'),
  }));
  const sum = (key) => processes.reduce((total, p) => total + p[key], 0);
  return { processes, rssMb: sum('rss') / 1024, pssMb: sum('pss') / 1024 };
}

async function windowMapped(since, stop) {
  while (!stop.done) {
    const { stdout } = await run('xwininfo', ['-root', '-tree']).catch(() => ({ stdout: '' }));
    if (/"Duet( \(\d+\))?": /.test(stdout) && / \d+x\d+\+/.test(stdout)) return performance.now() - since;
    await sleep(20);
  }
  return NaN;
}

async function once(index) {
  const window = new Window('bench', required('E2E_PORT'), { app: APP, patience: 60_000 });
  const stop = { done: false };
  const launchedAt = Date.now();
  const t0 = performance.now();
  const mapped = windowMapped(t0, stop);
  await window.open();
  const session = performance.now() - t0;
  await window.testId('message');
  const usable = performance.now() - t0;
  stop.done = true;
  const windowMs = await mapped;
  await sleep(IDLE_MS);
  const pid = appPid();
  const mem = pid ? memory(pid) : null;
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
  const mb = (k) => (k / 1024).toFixed(0);
  const rows = mem?.processes.map((p) => `${p.name} ${mb(p.rss)}/${mb(p.pss)} (anon ${mb(p.anon)}, files ${mb(p.file)})`).join(', ');
  log(
    `run ${index}: window ${windowMs.toFixed(0)} ms, page script ${page.script.toFixed(0)} ms, state ${page.state.toFixed(0)} ms, ` +
      `first messages painted ${page.painted.toFixed(0)} ms (WebDriver: session ${session.toFixed(0)} ms, row found ${usable.toFixed(0)} ms); ` +
      (mem ? `idle RSS ${mem.rssMb.toFixed(1)} MB, PSS ${mem.pssMb.toFixed(1)} MB (RSS/PSS MB: ${rows})` : 'app process not found') +
      `; DOM: ${dom[0]} elements, ${dom[1]} message rows`,
  );
  return { windowMs, painted: page.painted, rss: mem?.rssMb ?? NaN, pss: mem?.pssMb ?? NaN };
}

const results = [];
for (let i = 1; i <= RUNS; i++) results.push(await once(i));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
log(
  `median of ${RUNS}: window mapped ${median(results.map((r) => r.windowMs)).toFixed(0)} ms, ` +
    `first messages painted ${median(results.map((r) => r.painted)).toFixed(0)} ms, ` +
    `idle RSS ${median(results.map((r) => r.rss)).toFixed(1)} MB, PSS ${median(results.map((r) => r.pss)).toFixed(1)} MB ` +
    `(targets: ≤ 1000 ms, ≤ 100 MB)`,
);
