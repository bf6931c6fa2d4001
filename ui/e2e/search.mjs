#!/usr/bin/env node
/**
 * Search in the real app over a long history (run by scripts/e2e-search.sh, which seeds Alice's
 * 10,000-message conversation with Bob and starts Xvfb and tauri-driver): Alice opens Search
 * with Ctrl+F, looks for two words of message 1,203 (written by Bob, 8,797 messages before the
 * newest), finds exactly it, with the words marked, and opens it: the conversation shows it
 * with the messages written around it.
 *
 * Env: E2E_APP, E2E_PORT, E2E_MESSAGES (what was seeded; the message looked for is 1,203, or
 * the middle one of a shorter history).
 */
import { Window, log, required } from './webdriver.mjs';

const count = Number(process.env.E2E_MESSAGES ?? 10_000);
// seed_conversation.rs writes "<line> (<who> #<i>)", alternating runs of three, six lines.
const LINES = [
  'good morning 💛',
  'did you sleep well?',
  'coffee first, then the world',
  'I found the recipe we talked about: lemon, thyme, a lot of garlic',
  'running late, see you at 7?',
  'ok!',
];
const text = (i) => `${LINES[i % LINES.length]} (${Math.floor(i / 3) % 2 === 0 ? 'alice' : 'bob'} #${i})`;
const wanted = count > 1_203 ? 1_203 : Math.floor(count / 2) - (Math.floor(count / 2) % 6) + 3;

const alice = new Window('alice', required('E2E_PORT'), { app: required('E2E_APP'), patience: 60_000 });
try {
  await alice.open();
  await alice.message(text(count - 1));
  log(`alice: the newest of ${count} messages shows`);

  // Ctrl+F opens Search, its field focused.
  await alice.request('POST', '/actions', {
    actions: [
      {
        type: 'key',
        id: 'keyboard',
        actions: [
          { type: 'keyDown', value: '\uE009' },
          { type: 'keyDown', value: 'f' },
          { type: 'keyUp', value: 'f' },
          { type: 'keyUp', value: '\uE009' },
        ],
      },
    ],
  });
  const field = await alice.testId('search-input');
  await alice.until('the search field to have the focus', () =>
    alice.script('return document.activeElement === document.querySelector(\'[data-testid="search-input"]\')'),
  );
  // "Garlic" and the message's number, typed with other capitals: one message holds both.
  await alice.type(field, `GARLIC ${wanted}`);
  const result = await alice.until('exactly one result, the message looked for', async () => {
    const found = await alice.all('[data-testid="search-result"]');
    if (found.length !== 1) return null;
    const shown = await alice.textContent(found[0]);
    return shown.includes(`#${wanted})`) ? found[0] : null;
  });
  const marks = await alice.script(
    'return [...arguments[0].querySelectorAll("mark")].map((m) => m.textContent)',
    [{ 'element-6066-11e4-a52e-4f735466cecf': result }],
  );
  if (JSON.stringify(marks) !== JSON.stringify(['garlic', String(wanted)])) throw new Error(`marked: ${JSON.stringify(marks)}`);
  await alice.screenshot('search.png');

  // Opened in context: the message, highlighted, with its neighbours around it.
  await alice.click(result);
  const row = await alice.message(text(wanted));
  await alice.message(text(wanted - 1));
  await alice.message(text(wanted + 1));
  const id = await alice.attribute(row, 'data-message-id');
  await alice.until('the message to have the focus', () =>
    alice.script('return document.activeElement?.dataset?.messageId === arguments[0]', [id]),
  );
  await alice.screenshot('search-opened.png');
  log(`alice: found message ${wanted} of ${count} and opened it in its conversation`);
} catch (error) {
  await alice.saveHtml('search-failed.html').catch(() => {});
  await alice.screenshot('search-failed.png').catch(() => {});
  throw error;
} finally {
  await alice.close();
}
