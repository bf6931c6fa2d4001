/**
 * The trust part of the two-instance story (ui/e2e/two-instances.mjs), with both in Settings:
 *
 * 1. Both windows show the same safety number (twelve groups of five digits, computed by each
 *    node from the two people's keys); Alice marks it checked and Bob's window says so.
 * 2. Alice's device list shows her device (this one) and Bob's, with no Remove on his.
 * 3. Alice turns the app lock on and locks: her window shows only the lock screen, and Bob's
 *    next message reaches her desktop as "New message" without its words or his name; a
 *    wrong passphrase is refused in words, the right one opens Settings again.
 */
import { ENTER, log } from './webdriver.mjs';

const PASSPHRASE = 'sofa 1234';
const ESCAPE = '\uE00C';

/** The twelve groups as one string, once shown. */
async function safetyNumber(window) {
  return window.until(`${window.name}: the safety number`, async () => {
    const groups = [];
    for (const li of await window.all('[data-testid="safety-number"] li')) groups.push((await window.textContent(li)).trim());
    return groups.length === 12 && groups.every((g) => /^\d{5}$/.test(g)) ? groups.join(' ') : null;
  });
}

export async function checksTheSafetyNumber(alice, bob) {
  await bob.click(await bob.testId('settings-button'));
  const [a, b] = await Promise.all([safetyNumber(alice), safetyNumber(bob)]);
  if (a !== b) throw new Error(`the safety numbers differ: alice ${a}, bob ${b}`);
  log(`both show the safety number ${a.slice(0, 11)}…`);

  await alice.click(await alice.testId('mark-verified'));
  await alice.until('alice: her badge says checked', async () => (await alice.textContent(await alice.testId('verified-badge'))).includes('Checked'));
  await bob.until('bob: reads that Alice checked it', async () =>
    (await bob.textContent(await bob.testId('verified-by'))).startsWith('Alice checked it'),
  );
  log('alice marked it checked; bob sees that she did');
  await bob.script(`document.querySelector('[data-testid="safety-settings"]').scrollIntoView({ block: 'start' })`);
  await bob.screenshot('bob-safety-number.png');

  await alice.until('alice: her device and Bob’s in the device list', async () => {
    const list = await alice.testId('device-list');
    const rows = await alice.all('[data-testid="device-row"]', list);
    const text = await alice.textContent(list);
    const removable = await alice.all('[data-testid="remove-device"]', list);
    return rows.length === 2 && text.includes('this device') && text.includes('Bob’s') && removable.length === 0;
  });
  log('alice: the device list shows hers and Bob’s, and no Remove on either');
}

export async function locksTheApp(alice, bob, { send, notifications }) {
  await alice.type(await alice.testId('lock-new'), PASSPHRASE);
  await alice.type(await alice.testId('lock-repeat'), PASSPHRASE);
  await alice.click(await alice.testId('lock-save'));
  await alice.click(await alice.testId('lock-now'));
  await alice.testId('lock-screen');
  await alice.screenshot('alice-locked.png');
  log('alice: the lock is on and her window is locked');

  // Bob writes from his conversation (he leaves Settings for it).
  await bob.type(await bob.testId('mark-verified'), ESCAPE);
  await bob.until('bob: settings closed', async () => (await bob.all('[data-testid="safety-settings"]')).length === 0);
  const before = notifications().length;
  await send(bob, 'Dinner at eight?');
  await alice.until('a notification without the message’s words', async () => {
    const fresh = notifications().slice(before);
    if (fresh.some((n) => n.body.includes('Dinner') || n.summary.includes('Bob'))) throw new Error('a locked Duet showed the message in a notification');
    return fresh.some((n) => n.summary === 'Duet' && n.body === 'New message');
  });
  log('alice: locked, the notification says only "New message"');

  await alice.type(await alice.testId('lock-passphrase'), 'sofa 4321' + ENTER);
  await alice.until('alice: the wrong passphrase refused in words', async () => {
    for (const a of await alice.all('[data-testid="lock-screen"] [role="alert"]')) if ((await alice.textContent(a)).includes('not the passphrase')) return true;
    return false;
  });
  await alice.type(await alice.testId('lock-passphrase'), PASSPHRASE + ENTER);
  await alice.until('alice: the lock screen gone', async () => (await alice.all('[data-testid="lock-screen"]')).length === 0);
  await alice.testId('app-lock-settings');
  log('alice: a wrong passphrase is refused, the right one opens Duet again');
}
