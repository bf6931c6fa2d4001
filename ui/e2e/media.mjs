/**
 * The media part of the two-instance story (ui/e2e/two-instances.mjs), on the real device
 * path: each app has a sound server of its own whose microphone hears a tone of its own
 * (scripts/e2e-app.sh; ui/e2e/sound.mjs records the speakers), and no camera.
 *
 * 1. Alice drops a small image into the conversation and Bob sees its thumbnail.
 * 2. Alice places a video call with the devices Settings chose (the defaults: no test tone),
 *    Bob's window rings, he accepts; both see the call running and the call view say, in
 *    words, that there is no camera; Bob's speaker plays Alice's tone and Alice's plays Bob's;
 *    screenshots of both mid-call; Alice hangs up and both see the call in the timeline.
 * 3. Alice records a voice message from her microphone (the level meter moves, the timer
 *    runs) and sends it; both see it.
 * 4. Both turn on "Send a test tone instead of my microphone" in Settings and call again:
 *    the call view says so, each sees the other's test pattern painted, Bob hears the 440 Hz
 *    tone; screenshots; Alice hangs up.
 */
import { pitches, recordSpeaker, speakerPlays } from './sound.mjs';
import { ELEMENT, log } from './webdriver.mjs';

/** duet-call's test tone. */
const TEST_TONE_HZ = 440;
const ESCAPE = '\uE00C';

/** A 64×48 PNG (four coloured quadrants), made in the page so no file is needed. */
const DROP_IMAGE = `
  const done = arguments[arguments.length - 1];
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 48;
  const g = canvas.getContext('2d');
  [['#e34', 0, 0], ['#3b6', 32, 0], ['#36d', 0, 24], ['#ec3', 32, 24]].forEach(([c, x, y]) => { g.fillStyle = c; g.fillRect(x, y, 32, 24); });
  canvas.toBlob((blob) => {
    const file = new File([blob], 'e2e-colours.png', { type: 'image/png' });
    const data = new DataTransfer();
    data.items.add(file);
    const pane = document.querySelector('[data-testid="chat-view"]');
    pane.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
    pane.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    done(true);
  }, 'image/png');
`;

async function thumbnailShown(window) {
  await window.until('the image thumbnail', async () => {
    for (const img of await window.all('[data-testid="attachment-thumbnail"]')) {
      // Loaded: the object URL decoded to a picture of the right size.
      const ok = await window.script(
        'return arguments[0].complete && arguments[0].naturalWidth > 0 && arguments[0].src.startsWith("blob:")',
        [{ [ELEMENT]: img }],
      );
      if (ok) return true;
    }
    return false;
  });
}

export async function sharesAnImage(alice, bob) {
  await alice.request('POST', '/execute/async', { script: DROP_IMAGE, args: [] });
  log('alice: dropped an image into the conversation');
  await thumbnailShown(alice);
  await thumbnailShown(bob);
  log('both see the image thumbnail');
}

/** The call is active and its timer past 0:00 (and, with `video`, the partner's picture painted). */
async function callRunning(window, { video }) {
  await window.until(`the call running (timer past 0:00${video ? ', video painted' : ''})`, async () => {
    const [view] = await window.all('[data-testid="call-view"][data-phase="active"]');
    if (!view) return false;
    const timer = (await window.text(await window.testId('call-status'))).trim();
    if (!/^\d+:\d\d$/.test(timer) || timer === '0:00') return false;
    return !video || (await window.all('[data-testid="call-remote-video"][data-painted="true"]')).length > 0;
  });
}

/** The call view says what `words` matches (in its notices or its test tone line). */
async function callSays(window, testid, words) {
  await window.until(`the call view saying ${words}`, async () => words.test((await window.textContent(await window.testId(testid))).trim()));
}

async function hears(window, sound, hz, whose) {
  const heard = await window.until(`${whose} ${hz} Hz on ${window.name}’s speaker`, () => speakerPlays(sound, hz));
  log(`${window.name}: the speaker plays ${heard} Hz (${whose} ${hz} Hz)`);
}

async function callsEnded(windows, count) {
  await Promise.all(
    windows.map((w) =>
      w.until(`${count} ended call(s) in the timeline`, async () => (await w.all('[data-testid="call-note"][data-state="ended"]')).length >= count),
    ),
  );
}

/**
 * A video call on the devices Settings chose, with no test tone: the microphones' tones cross
 * over, and the view says there is no camera. `sound` holds each app's sound server and the
 * tone its microphone hears.
 */
export async function callsOnTheirDevices(alice, bob, sound) {
  await alice.click(await alice.testId('call-video'));
  await bob.click(await bob.testId('call-accept'));
  log('alice called; bob accepted');
  await Promise.all([callRunning(alice, { video: false }), callRunning(bob, { video: false })]);
  // duet-call's words ("No camera is plugged in: the call goes on with sound only"), whatever
  // their exact phrasing.
  await Promise.all([alice, bob].map((w) => callSays(w, 'call-notices', /camera.*sound only/i)));
  for (const w of [alice, bob]) {
    if ((await w.all('[data-testid="call-test-tone"]')).length > 0) throw new Error(`${w.name}: the call view says a test tone is sent`);
  }
  log('both see the call running and are told there is no camera');
  await hears(bob, sound.bob.dir, sound.alice.tone, 'Alice’s microphone:');
  await hears(alice, sound.alice.dir, sound.bob.tone, 'Bob’s microphone:');
  await alice.screenshot('alice-call.png');
  await bob.screenshot('bob-call.png');
  await switchesHerMicrophoneInTheCall(alice, bob, sound);

  await alice.click(await alice.testId('call-hangup'));
  await callsEnded([alice, bob], 1);
  log('alice hung up; both see the call in the timeline');
}

/**
 * In the call view, Alice switches her microphone to another entry (the sound server's own),
 * then back to the system default: each time the panel says it is done and Bob goes on hearing
 * her. Escape closes the panel.
 */
async function switchesHerMicrophoneInTheCall(alice, bob, sound) {
  await alice.click(await alice.testId('call-devices'));
  const mic = await alice.testId('call-device-microphone');
  const values = await alice.script('return [...arguments[0].options].map((o) => o.value)', [{ [ELEMENT]: mic }]);
  const other = values.find((v) => v !== '');
  if (!other) throw new Error(`alice: the call's microphone picker offers nothing but the default (${JSON.stringify(values)})`);
  for (const [value, what] of [[other, `“${other}”`], ['', 'the system default']]) {
    await alice.script('arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event("change", { bubbles: true }))', [
      { [ELEMENT]: mic },
      value,
    ]);
    await alice.until(`the switch to ${what} done`, async () => {
      const said = await alice.textContent(await alice.testId('call-devices-panel'));
      if (/could not|not allowed|no call/i.test(said)) throw new Error(`alice: switching to ${what} was refused: ${said}`);
      return said.includes('Later calls') && !said.includes('Switching') ? true : null;
    });
    if (value !== '') await alice.screenshot('alice-call-devices.png');
    await hears(bob, sound.bob.dir, sound.alice.tone, `Alice’s microphone, switched to ${what}:`);
    log(`alice switched her microphone to ${what} in the call; bob still hears her`);
  }
  await alice.type(await alice.testId('call-devices-panel'), ESCAPE);
  await alice.until('the devices panel closed', async () => (await alice.all('[data-testid="call-devices-panel"]')).length === 0);
}

/** Alice records a few seconds from her microphone and sends them. */
export async function recordsAVoiceMessage(alice, bob) {
  await alice.click(await alice.testId('voice-record'));
  await alice.testId('voice-recorder');
  const level = await alice.until('the voice level moving, a second recorded', async () => {
    const now = Number(await alice.attribute(await alice.testId('voice-level'), 'aria-valuenow'));
    const timer = (await alice.textContent(await alice.testId('voice-timer'))).trim();
    return now > 30 && timer !== '0:00' ? now : null;
  });
  log(`alice: recording a voice message, her microphone at ${level}%`);
  await alice.screenshot('alice-voice.png');
  await alice.click(await alice.testId('voice-send'));
  await Promise.all(
    [alice, bob].map((w) => w.until('the voice message in the conversation', async () => (await w.all('[data-testid="attachment"][data-kind="voice"]')).length > 0)),
  );
  log('alice sent a voice message; both see it');
}

/** Turns Settings → Audio & video's test tone switch on or off, then closes Settings. */
export async function setTestTone(window, on) {
  await window.click(await window.testId('settings-button'));
  const tone = await window.testId('media-test-tone');
  if ((await window.request('GET', `/element/${tone}/selected`)) !== on) await window.click(tone);
  await window.until(`the test tone switch ${on ? 'on' : 'off'}`, async () => (await window.request('GET', `/element/${tone}/selected`)) === on);
  await window.type(tone, ESCAPE);
  await window.until('the settings closed', async () => (await window.all('[data-testid="media-settings"]')).length === 0);
}

/** Both send the test tone and pattern: the view says so, the patterns are painted, Bob hears 440 Hz. */
export async function callsWithTheTestTone(alice, bob, sound) {
  await Promise.all([setTestTone(alice, true), setTestTone(bob, true)]);
  log('both turned the test tone on in Settings');
  await alice.click(await alice.testId('call-video'));
  await bob.click(await bob.testId('call-accept'));
  await Promise.all([callRunning(alice, { video: true }), callRunning(bob, { video: true })]);
  await Promise.all(
    [alice, bob].map((w) => callSays(w, 'call-test-tone', /^Sending a test tone instead of your microphone, and a test pattern instead of your camera\.$/)),
  );
  log('both see the call running with the partner’s test pattern, and are told they send a test tone');
  await hears(bob, sound.bob.dir, TEST_TONE_HZ, 'Alice’s test tone:');
  await alice.screenshot('alice-call-tone.png');
  await bob.screenshot('bob-call-tone.png');
  await alice.click(await alice.testId('call-hangup'));
  await callsEnded([alice, bob], 2);
  // Both close the ended call's summary (it would close by itself in 4 s), leaving the windows
  // at rest for the screenshots.
  await Promise.all(
    [alice, bob].map(async (w) => {
      const [close] = await w.all('[data-testid="call-close"]');
      if (close) await w.click(close).catch(() => {}); // it may have closed by itself meanwhile
      await w.until('the call view closed', async () => (await w.all('[data-testid="call-view"]')).length === 0);
    }),
  );
  log('alice hung up the test tone call');
}

/**
 * Settings → Audio & video in Alice's window (open): no camera said in words, her microphone's
 * level moving, and "Play a test sound" ringing its two notes on her speaker.
 */
export async function checksTheDevicesInSettings(alice, sound) {
  const section = await alice.testId('media-settings');
  await alice.script('arguments[0].scrollIntoView({ block: "start" })', [{ [ELEMENT]: section }]);
  await alice.until('“No camera found” in the camera field', async () =>
    (await alice.textContent(await alice.testId('media-camera-status'))).includes('No camera found'),
  );
  const level = await alice.until('the microphone meter moving', async () => {
    const now = Number(await alice.attribute(await alice.testId('media-mic-level'), 'aria-valuenow'));
    return now > 30 ? now : null;
  });
  log(`alice: the settings' microphone meter reads ${level}%`);
  await alice.screenshot('alice-settings-media.png');

  // The chime is about 0.7 s: record from before the click until well after it.
  const button = await alice.testId('media-test-sound');
  let connected;
  const started = new Promise((resolve) => (connected = resolve));
  const recording = recordSpeaker(sound.alice.dir, 2000, connected);
  await started;
  await alice.click(button);
  const heard = pitches(await recording);
  const rang = [880, 1318].every((note) => heard.some((hz) => Math.abs(hz - note) <= 15));
  if (!rang) throw new Error(`alice: the test sound's two notes (880 and 1318 Hz) were not both heard; each 50 ms: ${heard.join(' ') || 'silence'}`);
  log(`alice: "Play a test sound" rang on her speaker (each 50 ms: ${heard.join(' ')} Hz)`);
}
