/**
 * What is only for the two of them, in the two-instance story (ui/e2e/two-instances.mjs):
 *
 * 1. Bob sets his mood (🥰 and a few words) from his status panel: it shows on Alice's card.
 * 2. Alice presses "Thinking of you": she reads "Sent ♥", and Bob's desktop gets the
 *    notification "Alice is thinking of you ♥"; his card says she thought of him.
 * 3. Alice pins Bob's message: the pinned strip shows it in both windows.
 */
import { log } from './webdriver.mjs';

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
