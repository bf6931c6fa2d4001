/**
 * What is only for the two of them, in the two-instance story (ui/e2e/two-instances.mjs):
 *
 * 1. Bob sets his mood (🥰 and a few words) from his status panel: it shows on Alice's card.
 * 2. Alice presses "Thinking of you": she reads "Sent ♥", and Bob's desktop gets the
 *    notification "Alice is thinking of you ♥"; his card says she thought of him.
 * 3. Alice pins Bob's message: the pinned strip shows it in both windows.
 * 4. Alice makes a shared list and Bob ticks an item of it (sharesAList).
 * 5. Alice writes with formatting and an emoji from the full picker (writesWithStyle).
 * 6. Both find the picture and the voice message in Memories; Bob keeps the picture (keepsAMemory).
 * 7. Alice saves "Our story" from Settings: one HTML page with their words and the picture
 *    (savesOurStory).
 * 8. Alice turns the window to Français and back from Settings → Appearance (speaksFrench).
 * 9. Alice backs up from Settings; her computer is gone; on a new one (a fresh data folder)
 *    the first screen restores the backup, and she is back with their conversation; once the
 *    new one has caught up with Bob's, what she writes reaches him (backsUpAndRestores).
 */
import { existsSync, readFileSync } from 'node:fs';

import { ELEMENT, ENTER, log } from './webdriver.mjs';

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

/** The list item of `window`'s open list whose text is `text`. */
async function listItem(window, text) {
  for (const row of await window.all('[data-testid="list-item"]')) {
    const [label] = await window.all('[data-testid="list-item-text"]', row);
    if (label && (await window.textContent(label)).trim() === text) return row;
  }
  return null;
}

/**
 * Alice makes "Groceries" from her sidebar and adds milk and eggs; Bob opens it from his
 * sidebar and ticks the milk; Alice sees it ticked and one left. Both go back to their
 * conversation.
 */
export async function sharesAList(alice, bob) {
  await alice.click(await alice.testId('list-new'));
  await alice.type(await alice.testId('list-new-title'), 'Groceries' + ENTER);
  await alice.until('alice: the new list open', async () => (await alice.all('[data-testid="list-view"]')).length > 0);
  for (const text of ['milk', 'eggs']) {
    await alice.type(await alice.testId('list-add'), text + ENTER);
    await alice.until(`alice: “${text}” in the list`, async () => (await listItem(alice, text)) !== null);
  }
  const link = await bob.until('bob: “Groceries” in his sidebar', async () => {
    for (const l of await bob.all('[data-testid="list-link"]')) if ((await bob.textContent(l)).includes('Groceries')) return l;
    return null;
  });
  await bob.click(link);
  const milk = await bob.until('bob: the milk in the list', async () => listItem(bob, 'milk'));
  await bob.click(await bob.testId('list-item-check', milk));
  await alice.until('alice: the milk ticked by Bob', async () => {
    const row = await listItem(alice, 'milk');
    return row ? (await alice.attribute(row, 'data-checked')) === 'true' : false;
  });
  await alice.until('alice: one left', async () => (await alice.textContent(await alice.testId('list-left'))).includes('1'));
  // No screenshot here or right after writesWithStyle: taken at these two moments, before the
  // screenshot helper kept the page repainting (webdriver.mjs), it waited 60 s in 5 runs of 5.
  // The story's later screenshots show both: the final alice.png has the list in the sidebar
  // and the formatted message.
  log('alice made “Groceries”; bob ticked the milk and alice sees it');
  for (const window of [alice, bob]) {
    await window.click(await window.testId('conversation-direct'));
    await window.until(`${window.name}: the conversation back`, async () => (await window.all('[data-testid="composer"]')).length > 0);
  }
}

/**
 * Alice picks 🎉 from the composer's full emoji picker by searching, and writes the rest with
 * formatting: Bob sees the emoji, "party" in bold and "8pm" as code, as elements (the markup
 * itself does not show).
 */
export async function writesWithStyle(alice, bob) {
  await alice.click(await alice.testId('emoji-button'));
  await alice.type(await alice.testId('emoji-search'), 'tada');
  await alice.until('alice: 🎉 among the results', async () => {
    for (const cell of await alice.all('[data-testid="emoji-cell"]')) if ((await alice.textContent(cell)).includes('🎉')) return true;
    return false;
  });
  await alice.type(await alice.testId('emoji-search'), ENTER);
  const composer = await alice.testId('composer');
  await alice.until('alice: 🎉 in the composer', async () => ((await alice.attribute(composer, 'value')) || '').includes('🎉'));
  await alice.type(composer, ' **party** at `8pm`' + ENTER);
  log('alice sent it');
  // Read from the page (DOM text), not WebKitWebDriver's rendered text.
  const shown = await bob.until('bob: the message with bold and code', async () => {
    for (const content of await bob.all('[data-testid="message-content"]')) {
      const text = await bob.textContent(content);
      if (!text.includes('party at 8pm')) continue;
      return bob.script(
        `const el = arguments[0];
         return { text: el.textContent, strong: [...el.querySelectorAll('strong')].map((e) => e.textContent),
                  code: [...el.querySelectorAll('code')].map((e) => e.textContent) };`,
        [{ [ELEMENT]: content }],
      );
    }
    return null;
  });
  if (JSON.stringify(shown.strong) !== '["party"]') throw new Error(`bob: bold is ${JSON.stringify(shown.strong)}, not “party”`);
  if (JSON.stringify(shown.code) !== '["8pm"]') throw new Error(`bob: code is ${JSON.stringify(shown.code)}, not “8pm”`);
  if (!shown.text.includes('🎉') || shown.text.includes('**') || shown.text.includes('`')) throw new Error(`bob: the message reads “${shown.text}”`);
  log('alice wrote “🎉 **party** at `8pm`” with the picker; bob sees the emoji, bold and code');
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

/** The memory tiles `window` shows, as `kind:pinned` strings ("image:false", "voice:true"…). */
async function memoryTiles(window) {
  const tiles = await window.all('[data-testid="memory-tile"]');
  const out = [];
  for (const tile of tiles) {
    out.push(`${await window.attribute(tile, 'data-kind')}:${await window.attribute(tile, 'data-pinned')}`);
  }
  return out;
}

/**
 * Memories: after the image and the voice message, Bob opens Memories and finds both; he keeps
 * the picture as a moment and Alice's gallery shows it kept. Both go back to the conversation.
 */
export async function keepsAMemory(alice, bob) {
  for (const window of [alice, bob]) {
    await window.click(await window.testId('memories-link'));
    await window.until(`${window.name}: the picture and the voice message among the memories`, async () => {
      const tiles = await memoryTiles(window);
      return tiles.some((t) => t.startsWith('image:')) && tiles.some((t) => t.startsWith('voice:'));
    });
  }
  const [picture] = await bob.all('[data-testid="memory-tile"][data-kind="image"]');
  await bob.hover(picture);
  await bob.click(await bob.testId('memory-pin', picture));
  await alice.until('alice: the picture kept as a moment by Bob', async () =>
    (await memoryTiles(alice)).some((t) => t === 'image:true'));
  log('bob kept the picture as a moment; alice sees it kept');
  await alice.screenshot('alice-memories.png');
  for (const window of [alice, bob]) {
    await window.click(await window.testId('memories-close'));
    await window.until(`${window.name}: the conversation back`, async () => (await window.all('[data-testid="composer"]')).length > 0);
  }
}

/**
 * Alice saves "Our story" from Settings (open): the window says where, and that file is one
 * page holding Bob's words and the picture she dropped, with no script in it.
 */
export async function savesOurStory(alice, { words }) {
  await alice.click(await alice.testId('story-save'));
  const saved = await alice.until('alice: where the story was saved', async () => {
    const [said] = await alice.all('[data-testid="story-saved"]');
    return said ? (await alice.textContent(said)).trim() : null;
  });
  const path = /Saved to (.+?\.html)/.exec(saved)?.[1];
  if (!path) throw new Error(`the story's place is not said: ${saved}`);
  const page = readFileSync(path, 'utf8');
  for (const [what, ok] of [
    ['a page', page.startsWith('<!DOCTYPE html>')],
    [`Bob's words "${words}"`, page.includes(words)],
    ['the picture', page.includes('data:image/')],
    ['no script', !page.includes('<script')],
  ]) {
    if (!ok) throw new Error(`the story at ${path} lacks ${what}`);
  }
  log(`alice saved our story: ${saved}`);
}

/**
 * Alice chooses Français in Settings → Appearance (open): the window speaks French at once,
 * `<html lang>` says so, and so does the tray menu (`tray()`: trayOf her data directory);
 * English again after. Screenshot: alice-french.png.
 */
export async function speaksFrench(alice, { tray }) {
  const appearance = () => alice.testId('appearance-settings');
  const choice = async (language) => {
    // The radio is see-through under its drawn segment: a person clicks the word.
    const [radio] = await alice.all(`[data-testid="language-choice"][data-language="${language}"] + span`);
    if (!radio) throw new Error(`alice: no ${language} among the languages`);
    return radio;
  };
  await alice.click(await choice('fr'));
  await alice.until('alice: Settings in French', async () => (await alice.textContent(await appearance())).includes('Apparence'));
  const lang = await alice.script('return document.documentElement.lang');
  if (lang !== 'fr') throw new Error(`<html lang> is ${lang}, not fr`);
  await alice.until('alice: the tray menu in French', async () => (await tray())?.menu.includes('Ouvrir Duet'));
  await alice.screenshot('alice-french.png');
  await alice.click(await choice('en'));
  await alice.until('alice: Settings in English again', async () => (await alice.textContent(await appearance())).includes('Appearance'));
  await alice.until('alice: the tray menu in English again', async () => (await tray())?.menu.includes('Open Duet'));
  log('alice: the window in French and back to English from Settings → Appearance');
}

/**
 * Alice backs up from Settings (open), and her computer is gone (her window closes); on her new
 * computer (`fresh`: a window on an empty data folder) she chooses "Restore from a backup" on
 * the first screen, gives the file and its passphrase, and is back: Bob's `words` are there,
 * and once it has caught up with Bob's devices what she writes reaches him. Screenshots:
 * alice-restore.png (the first screen's restore), alice-restored.png.
 */
export async function backsUpAndRestores(alice, bob, fresh, { words, send }) {
  const passphrase = 'our backup passphrase';
  await alice.type(await alice.testId('backup-passphrase'), passphrase);
  await alice.type(await alice.testId('backup-passphrase-again'), passphrase);
  await alice.click(await alice.testId('backup-save'));
  const saved = await alice.until('alice: where the backup was saved', async () => {
    const [said] = await alice.all('[data-testid="backup-saved"]');
    return said ? (await alice.textContent(said)).trim() : null;
  });
  const path = /(\/\S+\.duetbackup)/.exec(saved)?.[1];
  if (!path || !existsSync(path)) throw new Error(`the backup's place is not said, or nothing is there: ${saved}`);
  log(`alice backed up: ${saved}`);

  await alice.close();
  await bob.until('bob: Alice gone', async () => !(await bob.text(await bob.testId('partner-status'))).trim().startsWith('Online'));
  await fresh.open();
  await fresh.click(await fresh.testId('restore-backup'));
  await fresh.type(await fresh.testId('restore-path'), path);
  await fresh.type(await fresh.testId('restore-passphrase'), passphrase);
  await fresh.screenshot('alice-restore.png');
  await fresh.click(await fresh.testId('restore-submit'));
  await fresh.testId('composer');
  await fresh.message(words);
  await fresh.screenshot('alice-restored.png');
  log('alice: restored on a new computer, with their conversation');

  // Until it has caught up with Bob's devices, a restored device does not write (the composer
  // says why); then it does. Sent again until it goes through.
  const text = 'Back, on my new computer';
  const bobHasIt = async () => {
    for (const content of await bob.all('[data-testid="message-content"]')) {
      if ((await bob.text(content)).includes(text)) return true;
    }
    return false;
  };
  for (let attempt = 0; !(await bobHasIt()); attempt++) {
    if (attempt === 10) throw new Error('alice: what she wrote on the new computer never reached Bob');
    await send(fresh, text);
    for (let look = 0; look < 20 && !(await bobHasIt()); look++) await new Promise((r) => setTimeout(r, 500));
  }
  await fresh.until('alice: the catching-up line gone', async () => (await fresh.all('[data-testid="catching-up-banner"]')).length === 0);
  log('alice: what she wrote on the new computer reached bob');
}
