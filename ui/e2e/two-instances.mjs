#!/usr/bin/env node
/**
 * End to end, two real Duet apps: Alice and Bob each run `duet-app` (separate data dirs,
 * loopback only), driven through the W3C WebDriver HTTP API of their own tauri-driver. Plain
 * `fetch`, no client library.
 *
 * The story: both create a profile (name and avatar); Alice makes an invite and Bob joins with
 * its ticket (read from Alice's window); each sees the other online; a message goes each way;
 * Bob reacts to Alice's; Alice edits hers and Bob sees the edit; the read ticks appear. Then
 * Alice looks at a new channel while Bob writes to her: an unread badge, the tray icon's label,
 * the window title and a desktop notification (ui/e2e/desktop.mjs reads them from D-Bus and
 * X), all cleared once she reads it. Bob sets a mood, Alice nudges him and pins his message;
 * Alice makes a shared list and Bob ticks an item of it; Alice writes with formatting and an
 * emoji from the full picker (ui/e2e/couple.mjs). Then the media (ui/e2e/media.mjs), on the real device
 * path: an image; a call in which each hears the other's microphone on their speaker (Alice
 * switches her microphone in the call view and back); a voice
 * message; a call with the test tone turned on in Settings. Last, Settings: the microphone
 * meter moves, the test sound rings, a mistyped relay is refused; then trust (ui/e2e/trust.mjs):
 * the same safety number on both, the device list, the app lock; and dates: "together
 * since" on Bob's card and a reminder on his desktop (ui/e2e/couple.mjs); "Our story", French and back;
 * last, Alice backs up from Settings, her window closes, and a third app on an empty data
 * folder (E2E_PORT_C) restores her backup from its first screen. At the end (and on failure)
 * each window is saved as a PNG under $E2E_OUT.
 *
 * Run by scripts/e2e-app.sh, which starts Xvfb, a session D-Bus with a notification daemon,
 * a sound server per app whose microphone hears a tone, and the drivers, and sets E2E_APP,
 * E2E_PORT_A/B (the drivers; E2E_PORT_C for Alice's new computer), E2E_DATA_A (Alice's data directory), E2E_SOUND_A/B (the sound
 * servers' directories), E2E_TONE_A/B (the tones their microphones hear, Hz), E2E_OUT,
 * E2E_NOTIFY_LOG, DISPLAY and DBUS_SESSION_BUS_ADDRESS.
 * The selectors are the `data-testid`s listed in ui/src/lib/backend/README.md.
 */
import { notifications, trayOf, windowTitles } from './desktop.mjs';
import { ENTER, ELEMENT, Window, log, required } from './webdriver.mjs';
import { callsOnTheirDevices, callsWithTheTestTone, checksTheDevicesInSettings, recordsAVoiceMessage, sharesAnImage } from './media.mjs';
import { checksTheSafetyNumber, locksTheApp } from './trust.mjs';
import { backsUpAndRestores, keepsAMemory, savesOurStory, setsAMoodNudgesAndPins, sharesAList, sharesDates, speaksFrench, writesWithStyle } from './couple.mjs';

const APP = required('E2E_APP');
const OUT = process.env.E2E_OUT ?? 'target/e2e';
const ALICE_DATA = required('E2E_DATA_A');
/** Each app's sound server and the tone its microphone hears. */
const SOUND = {
  alice: { dir: required('E2E_SOUND_A'), tone: Number(required('E2E_TONE_A')) },
  bob: { dir: required('E2E_SOUND_B'), tone: Number(required('E2E_TONE_B')) },
};

async function onboard(window, name, avatar) {
  const input = await window.testId('onboarding-name');
  await window.type(input, name);
  const [choice] = await window.all(`[data-testid="onboarding-avatar"][data-emoji="${avatar}"]`);
  if (!choice) throw new Error(`${window.name}: no avatar ${avatar} to choose`);
  await window.click(choice);
  await window.click(await window.testId('onboarding-submit'));
  log(`${window.name}: profile created`);
}

/** The partner card reads the partner's name, avatar and "Online". */
async function seesPartnerOnline(window, partner, avatar) {
  await window.until(`${partner} (${avatar}) shown online`, async () => {
    const card = await window.text(await window.testId('partner-card'));
    const status = await window.text(await window.testId('partner-status'));
    return card.includes(partner) && card.includes(avatar) && status.trim().startsWith('Online');
  });
}

/** Nothing hovered or focused in the message list, so the screenshot shows the conversation as it rests. */
async function settle(window) {
  const composer = await window.testId('composer');
  await window.hover(composer);
  await window.click(composer);
}

async function ticketOf(window) {
  await window.click(await window.testId('invite-create'));
  return window.until('the invite ticket', async () => {
    const element = await window.testId('invite-ticket');
    const text = ((await window.attribute(element, 'value')) || (await window.text(element)) || '').trim();
    return text.length > 20 ? text : null;
  });
}

async function send(window, text) {
  const composer = await window.testId('composer');
  await window.type(composer, text + ENTER);
  log(`${window.name}: sent "${text}"`);
}

async function main() {
  const alice = new Window('alice', required('E2E_PORT_A'), { app: APP, out: OUT });
  const bob = new Window('bob', required('E2E_PORT_B'), { app: APP, out: OUT });
  // Alice's new computer, opened at the end: an empty data folder, restored from her backup.
  const aliceNew = new Window('alice-new', required('E2E_PORT_C'), { app: APP, out: OUT });
  const windows = [alice, bob, aliceNew];
  let failed = null;
  try {
    await Promise.all([alice, bob].map((w) => w.open()));

    await Promise.all([onboard(alice, 'Alice', '🌻'), onboard(bob, 'Bob', '🐻')]);

    const ticket = await ticketOf(alice);
    log(`alice: invite ticket of ${ticket.length} characters`);
    // The join form may sit behind a tab of the pairing screen.
    await bob.until('the pairing screen', async () => (await bob.all('[data-testid="join-tab"], [data-testid="join-ticket"]')).length > 0);
    const [tab] = await bob.all('[data-testid="join-tab"]');
    if (tab) await bob.click(tab);
    await bob.type(await bob.testId('join-ticket'), ticket);
    await bob.click(await bob.testId('join-submit'));
    await Promise.all([alice, bob].map((w) => w.testId('composer')));
    log('paired: both windows show the composer');
    // Each sees the other online: the partner card reads "Online".
    await Promise.all([seesPartnerOnline(alice, 'Bob', '🐻'), seesPartnerOnline(bob, 'Alice', '🌻')]);
    log('both see their partner online');

    await send(alice, 'Hello from Alice');
    const aliceMessageAtBob = await bob.message('Hello from Alice');
    await send(bob, 'Hi Alice, Bob here');
    await alice.message('Hi Alice, Bob here');
    log('a message went each way');

    // Bob reacts to Alice's message; Alice sees the reaction.
    // A message's actions show on hover (or focus), as for a person with a mouse.
    await bob.hover(aliceMessageAtBob);
    await bob.click(await bob.testId('react-button', aliceMessageAtBob));
    const emoji = await bob.until('an emoji to pick', async () => {
      const [option] = await bob.all('[data-testid="emoji-option"]');
      return option ?? null;
    });
    const picked = await bob.attribute(emoji, 'data-emoji');
    await bob.click(emoji);
    const aliceRow = await alice.message('Hello from Alice');
    if (!picked) throw new Error('bob: the emoji option has no data-emoji');
    await alice.until(`Bob's reaction ${picked}, counted once`, async () => {
      const [chip] = await alice.all(`[data-testid="reaction"][data-emoji="${picked}"]`, aliceRow);
      return chip && (await alice.text(chip)).includes('1');
    });
    log(`bob reacted ${picked}; alice sees it`);

    // Alice edits her message; Bob sees the new text and the edited marker.
    await alice.hover(aliceRow);
    await alice.click(await alice.testId('edit-button', aliceRow));
    const editorId = await alice.until('the editor to take focus', async () => {
      const id = (await alice.request('GET', '/element/active'))?.[ELEMENT];
      const tag = id && (await alice.request('GET', `/element/${id}/name`));
      return tag === 'textarea' || tag === 'input' ? id : null;
    });
    await alice.clear(editorId);
    await alice.type(editorId, 'Hello from Alice, edited' + ENTER);
    const edited = await bob.message('Hello from Alice, edited');
    await bob.testId('edited-marker', edited);
    // The edit keeps the reaction, and Alice's own view shows the new text once, marked too.
    await bob.until(`the reaction ${picked} kept through the edit`, async () => {
      return (await bob.all(`[data-testid="reaction"][data-emoji="${picked}"]`, edited)).length === 1;
    });
    await alice.testId('edited-marker', await alice.message('Hello from Alice, edited'));
    log('alice edited her message; bob sees the edit');

    // Bob has the conversation open, so Alice's message is read: the tick appears.
    await alice.until('the read tick on Alice’s message', async () => {
      const row = await alice.message('Hello from Alice, edited');
      return (await alice.all('[data-testid="read-tick"]', row)).length > 0;
    });
    // Alice has hers open too, so Bob's message shows read on Bob's side.
    await bob.until('the read tick on Bob’s message', async () => {
      const row = await bob.message('Hi Alice, Bob here');
      return (await bob.all('[data-testid="read-tick"]', row)).length > 0;
    });
    log('both see the read tick on their message');

    // Alice looks at a new channel; Bob writes to her: the direct conversation gets an unread
    // badge, the tray icon and the window title the count, and the desktop a notification.
    await alice.click(await alice.testId('channel-create'));
    await alice.type(await alice.testId('channel-name'), 'plans' + ENTER);
    const plans = await alice.until('the channel #plans', async () => {
      // Its name is read from the DOM: WebKitWebDriver's element text of this button is only "#".
      for (const c of await alice.all('[data-testid="channel"]')) if ((await alice.textContent(c)).includes('plans')) return c;
      return null;
    });
    await alice.click(plans);
    await alice.until('#plans open', async () => (await alice.attribute(await alice.testId('composer'), 'placeholder'))?.includes('#plans'));
    log('alice created #plans and looks at it');
    await send(bob, 'Are you free tonight?');
    await alice.until('an unread badge of 1 on the direct conversation', async () => {
      const [badge] = await alice.all('[data-testid="unread-badge"]', await alice.testId('conversation-direct'));
      return badge && (await alice.textContent(badge)).trim() === '1';
    });
    await alice.until('the tray icon labelled 1, with its menu', async () => {
      const tray = await trayOf(ALICE_DATA);
      return tray?.status === 'Active' && tray.label === '1' && tray.menu.includes('Open Duet') && tray.menu.includes('Quit Duet');
    });
    await alice.until('a window titled "Duet (1)"', async () => (await windowTitles()).includes('Duet (1)'));
    await alice.until('a desktop notification of Bob’s message', async () =>
      notifications().some((n) => n.summary === 'Bob' && n.body.includes('Are you free tonight?')),
    );
    log('alice sees the unread badge, the tray label, the window title and a notification');

    // Alice opens the conversation: read, so the count goes away everywhere and Bob sees the tick.
    await alice.click(await alice.testId('conversation-direct'));
    await alice.message('Are you free tonight?');
    await bob.until('the read tick on “Are you free tonight?”', async () => {
      const row = await bob.message('Are you free tonight?');
      return (await bob.all('[data-testid="read-tick"]', row)).length > 0;
    });
    await alice.until('the tray label and window title cleared', async () => {
      const tray = await trayOf(ALICE_DATA);
      return tray?.label === '' && !(await windowTitles()).some((t) => /^Duet \(\d+\)$/.test(t));
    });
    if ((await alice.all('[data-testid="unread-badge"]')).length > 0) throw new Error('alice: an unread badge is left');
    log('alice read it: badge, tray label and title cleared; bob sees the read tick');

    // A mood, a nudge and a pin (ui/e2e/couple.mjs).
    await setsAMoodNudgesAndPins(alice, bob, { notifications, pinned: 'Are you free tonight?' });
    // A shared list, and a message with formatting and an emoji from the picker.
    await sharesAList(alice, bob);
    await writesWithStyle(alice, bob);

    // An image goes across; calls and a voice message on the real device path (ui/e2e/media.mjs).
    await sharesAnImage(alice, bob);
    await callsOnTheirDevices(alice, bob, SOUND);
    await recordsAVoiceMessage(alice, bob);
    // The picture and the voice message are memories for both; one kept (ui/e2e/couple.mjs).
    await keepsAMemory(alice, bob);
    await callsWithTheTestTone(alice, bob, SOUND);

    // Still both online, and the windows at rest for the screenshots.
    await Promise.all([seesPartnerOnline(alice, 'Bob', '🐻'), seesPartnerOnline(bob, 'Alice', '🌻')]);
    await Promise.all([alice, bob].map(settle));

    await alice.screenshot('alice.png');
    await bob.screenshot('bob.png');

    // Settings: the microphone meter moves and the test sound rings on the speaker; no relay
    // yet, and a relay address without its peer id is refused by the node in words, next to
    // the field.
    await alice.click(await alice.testId('settings-button'));
    await checksTheDevicesInSettings(alice, SOUND);
    const relays = await alice.testId('relays-field');
    const status = async () => alice.textContent((await alice.all('#relays-status'))[0]);
    await alice.until('the relays section says there is none', async () => (await status()).includes('No relay'));
    await alice.type(relays, '/ip4/198.51.100.1/tcp/4001');
    await alice.click(await alice.until('the save button', async () => {
      for (const b of await alice.all('button')) if ((await alice.textContent(b)).includes('Save relays')) return b;
      return null;
    }));
    await alice.until('the refusal next to the field', async () => (await status()).includes('must end with /p2p/'));
    await alice.screenshot('alice-settings.png');
    log('alice: a relay address without its peer id is refused in words');

    // Trust (ui/e2e/trust.mjs): the same safety number on both, the device list, the app lock.
    await checksTheSafetyNumber(alice, bob);
    await locksTheApp(alice, bob, { send, notifications });
    // Dates (ui/e2e/couple.mjs): "together since" on Bob's card, a reminder on his desktop.
    await sharesDates(alice, bob, { notifications });
    // "Our story" saved from Settings, and read back (ui/e2e/couple.mjs).
    await savesOurStory(alice, { words: 'Are you free tonight?' });
    // The language (ui/e2e/couple.mjs): French and back.
    await speaksFrench(alice, { tray: () => trayOf(ALICE_DATA) });
    // A backup from Settings, restored on a new computer (ui/e2e/couple.mjs). Last: Alice's
    // first window closes.
    await backsUpAndRestores(alice, bob, aliceNew, { words: 'Hi Alice, Bob here', send });
  } catch (error) {
    failed = error;
    for (const w of windows) {
      if (!w.session) continue;
      await w.saveHtml(`failure-${w.name}.html`).catch((e) => log(`${w.name}: the page could not be saved: ${e.message}`));
      await w.screenshot(`failure-${w.name}.png`).catch((e) => log(`${w.name}: no screenshot: ${e.message}`));
    }
  } finally {
    await Promise.all(windows.map((w) => w.close()));
  }
  if (failed) {
    console.error(`e2e: FAILED: ${failed.message}`);
    process.exit(1);
  }
  log('passed');
}

await main();
