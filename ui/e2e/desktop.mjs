/**
 * What the real app shows outside its page, read the way a desktop reads it (for
 * `ui/e2e/two-instances.mjs`):
 * - the tray icon: the StatusNotifierItem the app exports on the session D-Bus
 *   (libayatana-appindicator), its label (the unread count) and menu;
 * - the native window title, from the X server (`xwininfo`);
 * - desktop notifications: the `Notify` calls `dbus-monitor` saw on the session bus, as logged
 *   by scripts/e2e-app.sh (a notification daemon answers them).
 *
 * Env: DBUS_SESSION_BUS_ADDRESS and DISPLAY (the test's own bus and Xvfb), E2E_NOTIFY_LOG.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One D-Bus call; a peer that does not answer within `seconds` is an error. */
async function gdbus(...args) {
  return gdbusWithin(5, ...args);
}

async function gdbusWithin(seconds, ...args) {
  const { stdout } = await run('gdbus', ['call', '--session', '--timeout', String(seconds), ...args], { timeout: seconds * 1000 });
  return stdout.trim();
}

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The unique bus names of the app whose data directory is `dataDir`. */
async function connectionsOf(dataDir) {
  const names = (await gdbus('--dest', 'org.freedesktop.DBus', '--object-path', '/org/freedesktop/DBus', '--method', 'org.freedesktop.DBus.ListNames'))
    .match(/':\d+\.\d+'/g)
    ?.map((n) => n.slice(1, -1)) ?? [];
  const mine = [];
  for (const name of names) {
    const answer = await gdbus('--dest', 'org.freedesktop.DBus', '--object-path', '/org/freedesktop/DBus', '--method', 'org.freedesktop.DBus.GetConnectionUnixProcessID', name).catch(() => '');
    const pid = answer.match(/uint32 (\d+)/)?.[1];
    if (!pid) continue;
    if (read(`/proc/${pid}/comm`).trim() !== 'duet-app') continue;
    if (read(`/proc/${pid}/environ`).split('\0').includes(`DUET_DATA_DIR=${dataDir}`)) mine.push(name);
  }
  return mine;
}

/** Where each app's tray item was found: data directory → [bus name, object path]. */
const found = new Map();

/** The app's tray item: `{ status, label, menu }`, or null when it exports none. */
export async function trayOf(dataDir) {
  if (!found.has(dataDir)) {
    // Asked of all the app's connections at once, briefly: some of them (not GDBus ones) never
    // answer an Introspect, and waiting for each in turn made one look take 5 s or more.
    const names = await connectionsOf(dataDir);
    const trees = await Promise.all(
      names.map((name) =>
        gdbusWithin(1, '--dest', name, '--object-path', '/org/ayatana/NotificationItem', '--method', 'org.freedesktop.DBus.Introspectable.Introspect').catch(() => ''),
      ),
    );
    names.forEach((name, i) => {
      const item = trees[i].match(/<node name=\\?"([^"\\]+)\\?"/)?.[1];
      if (item) found.set(dataDir, [name, `/org/ayatana/NotificationItem/${item}`]);
    });
  }
  if (!found.has(dataDir)) return null;
  const [name, path] = found.get(dataDir);
  const property = async (key) =>
    (await gdbus('--dest', name, '--object-path', path, '--method', 'org.freedesktop.DBus.Properties.Get', 'org.kde.StatusNotifierItem', key)).match(/<'(.*)'>/)?.[1] ?? null;
  const layout = await gdbus('--dest', name, '--object-path', `${path}/Menu`, '--method', 'com.canonical.dbusmenu.GetLayout', '--', '0', '-1', '@as []');
  const menu = [...layout.matchAll(/'label': <'([^']*)'>/g)].map((m) => m[1]);
  return { status: await property('Status'), label: await property('XAyatanaLabel'), menu };
}

/** The titles of the top-level windows on the X server. */
export async function windowTitles() {
  const { stdout } = await run('xwininfo', ['-root', '-children'], { timeout: 5000 });
  return [...stdout.matchAll(/^\s+0x[0-9a-f]+ "([^"]*)":/gm)].map((m) => m[1]);
}

/** The (summary, body) of every `Notify` call seen on the bus so far. */
export function notifications() {
  const log = read(process.env.E2E_NOTIFY_LOG ?? '');
  const calls = log.split(/^method call /m).filter((c) => /member=Notify\b/.test(c));
  // Notify(app_name, replaces_id, app_icon, summary, body, actions, hints, timeout)
  return calls.map((call) => {
    const strings = [...call.matchAll(/^\s+string "((?:[^"\\]|\\.)*)"/gm)].map((m) => m[1]);
    return { summary: strings[2] ?? '', body: strings[3] ?? '' };
  });
}
