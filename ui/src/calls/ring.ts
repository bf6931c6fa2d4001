/**
 * The ring of an incoming call: a soft two-tone every two seconds, made with Web Audio (no
 * sound file to ship). Silent where the page cannot play sound (jsdom, no audio device).
 */
export function startRinging(): () => void {
  const Ctx = typeof window !== 'undefined' ? window.AudioContext : undefined;
  if (!Ctx) return () => {};
  let ctx: AudioContext;
  try {
    ctx = new Ctx();
  } catch {
    return () => {};
  }
  const ring = () => {
    const t = ctx.currentTime;
    for (const [i, freq] of [660, 880].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + i * 0.35);
      gain.gain.exponentialRampToValueAtTime(0.12, t + i * 0.35 + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.35 + 0.3);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t + i * 0.35);
      osc.stop(t + i * 0.35 + 0.32);
    }
  };
  ring();
  const timer = setInterval(ring, 2000);
  return () => {
    clearInterval(timer);
    void ctx.close().catch(() => {});
  };
}
