/**
 * The media part of the two-instance story (ui/e2e/two-instances.mjs): Alice drops a small
 * image into the conversation and Bob sees its thumbnail; Alice places a video call, Bob's
 * window rings, he accepts, and both see the call running (the timer past 0:00, the partner's
 * test pattern painted on the canvas); screenshots of both mid-call; Alice hangs up and both
 * see the call in the timeline.
 */
import { log } from './webdriver.mjs';

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
      const ok = await window.request('POST', '/execute/sync', {
        script: 'return arguments[0].complete && arguments[0].naturalWidth > 0 && arguments[0].src.startsWith("blob:")',
        args: [{ 'element-6066-11e4-a52e-4f735466cecf': img }],
      });
      if (ok) return true;
    }
    return false;
  });
}

async function callRunning(window) {
  await window.until('the call running (timer past 0:00, video painted)', async () => {
    const [view] = await window.all('[data-testid="call-view"][data-phase="active"]');
    if (!view) return false;
    const timer = (await window.text(await window.testId('call-status'))).trim();
    const painted = await window.all('[data-testid="call-remote-video"][data-painted="true"]');
    return /^\d+:\d\d$/.test(timer) && timer !== '0:00' && painted.length > 0;
  });
}

export async function sharesAnImageAndCalls(alice, bob) {
  await alice.request('POST', '/execute/async', { script: DROP_IMAGE, args: [] });
  log('alice: dropped an image into the conversation');
  await thumbnailShown(alice);
  await thumbnailShown(bob);
  log('both see the image thumbnail');

  await alice.click(await alice.testId('call-video'));
  await bob.click(await bob.testId('call-accept'));
  log('alice called; bob accepted');
  await Promise.all([callRunning(alice), callRunning(bob)]);
  log('both see the call running with video');
  await alice.screenshot('alice-call.png');
  await bob.screenshot('bob-call.png');

  await alice.click(await alice.testId('call-hangup'));
  await Promise.all(
    [alice, bob].map((w) => w.until('the ended call in the timeline', async () => (await w.all('[data-testid="call-note"][data-state="ended"]')).length > 0)),
  );
  log('alice hung up; both see the call in the timeline');
}
