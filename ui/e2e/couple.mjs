/**
 * What is only for the two of them, in the two-instance story (ui/e2e/two-instances.mjs):
 *
 * 1. Bob sets his mood (🥰 and a few words) from his status panel: it shows on Alice's card.
 * 2. Alice presses "Thinking of you": she reads "Sent ♥", and Bob's desktop gets the
 *    notification "Alice is thinking of you ♥"; his card says she thought of him.
 * 3. Alice pins Bob's message: the pinned strip shows it in both windows.
 */
import { ELEMENT, log } from './webdriver.mjs';

const ESCAPE = '\uE00C';

export async function setsAMoodNudgesAndPins(alice, bob, { notifications, pinned }) {
  await bob.click(await bob.testId('status-menu'));
  const [love] = await bob.all('[data-testid="mood-suggestion"][data-emoji="🥰"]');
  if (!love) throw new Error('bob: no 🥰 among the mood suggestions');
  await bob.click(love);
  await bob.type(await bob.testId('mood-words'), 'happy Friday');
  await bob.click(await bob.testId('mood-save'));
  await alice.until('alice: Bob’s mood on his card', async () => {
    const [mood] = await alice.all('[data-testid="partner-mood"]');
    const text = mood ? await alice.textContent(mood) : '';
    return text.includes('🥰') && text.includes('happy Friday');
  });
  await bob.type(await bob.testId('mood-words'), ESCAPE);
  log('bob set his mood; alice sees 🥰 happy Friday on his card');

  const before = notifications().length;
  await alice.click(await alice.testId('nudge-button'));
  await alice.until('alice: "Sent ♥"', async () => (await alice.textContent(await alice.testId('nudge-sent'))).includes('Sent'));
  await bob.until('bob: a notification that Alice is thinking of him', async () =>
    notifications()
      .slice(before)
      .some((n) => n.summary.includes('Alice is thinking of you')),
  );
  await bob.until('bob: his card says she thought of him', async () => {
    const [thought] = await bob.all('[data-testid="partner-nudge"]');
    return thought ? (await bob.textContent(thought)).includes('thought of you') : false;
  });
  log('alice nudged bob: a notification on his desktop, "thought of you" on his card');

  const row = await alice.message(pinned);
  await alice.hover(row);
  await alice.click(await alice.testId('pin-button', row));
  for (const window of [alice, bob]) {
    await window.until(`${window.name}: the pinned strip shows “${pinned}”`, async () => {
      const [strip] = await window.all('[data-testid="pinned-strip"]');
      return strip ? (await window.textContent(strip)).includes(pinned) : false;
    });
  }
  await alice.screenshot('alice-mood-and-pin.png');
  log(`alice pinned “${pinned}”; both see it in the pinned strip`);
}

/** Sets a form field as a person's typing would end up (date, time and select inputs). */
async function setField(window, testId, value) {
  const element = await window.testId(testId);
  await window.script(
    `const el = arguments[0]; el.value = arguments[1];
     el.dispatchEvent(new Event('input', { bubbles: true })); el.dispatchEvent(new Event('change', { bubbles: true }));`,
    [{ [ELEMENT]: element }, value],
  );
}

/**
 * Dates, from Alice's Settings (open when this runs): "together since" shows on Bob's card as a
 * day count, and a dinner fifteen minutes from now with a reminder fifteen minutes before
 * reminds Bob on his desktop at once.
 */
export async function sharesDates(alice, bob, { notifications }) {
  await alice.testId('dates-settings');
  await setField(alice, 'together-since-input', '2021-06-12');
  await alice.click(await alice.testId('together-since-save'));
  await bob.until('bob: "Together … days" on his card', async () => {
    const [days] = await bob.all('[data-testid="together-days"]');
    return days ? /Together [\d,]+ days/.test(await bob.textContent(days)) : false;
  });
  log('alice set "together since"; bob’s card counts the days');

  // Fifteen minutes on, to the minute (the field has no seconds), in this computer's time: the
  // reminder, fifteen minutes before, is due at once (at most a minute late), and the node's
  // ticker gives it within seconds.
  const when = new Date(Date.now() + 15 * 60_000);
  const pad = (n) => String(n).padStart(2, '0');
  const before = notifications().length;
  await alice.type(await alice.testId('date-title'), 'Dinner at Chez Lou');
  await setField(alice, 'date-day', `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}`);
  await setField(alice, 'date-time', `${pad(when.getHours())}:${pad(when.getMinutes())}`);
  await setField(alice, 'date-remind', '15');
  await alice.click(await alice.testId('date-save'));
  await alice.until('alice: the date listed', async () => {
    for (const row of await alice.all('[data-testid="date-row"]')) if ((await alice.textContent(row)).includes('Dinner at Chez Lou')) return true;
    return false;
  });
  await alice.screenshot('alice-dates.png');
  const patience = bob.patience;
  bob.patience = Math.max(patience, 60_000);
  try {
    await bob.until('bob: reminded of the dinner on his desktop', async () =>
      notifications()
        .slice(before)
        .some((n) => n.summary.includes('Dinner at Chez Lou')),
    );
  } finally {
    bob.patience = patience;
  }
  log('alice added a dinner; bob’s desktop reminds him of it at its time');
}
