/**
 * The call on this device, as the window shows it. The node owns the call
 * (docs/architecture.md, "Calls"); this follows its `call` events (calling → ringing →
 * connecting → active → ended), keeps the running timer, my mute/camera switches and my
 * partner's, and the history the conversation shows. A finished call stays on screen for a
 * moment ("Call ended · 2:14") before the view closes.
 *
 * The history is re-read when a call ends and on resync, while `call_recorded` events keep
 * arriving: a record heard while a re-read is on its way is newer than that snapshot and is
 * kept (the callee's end and the caller's record cross each other; letting the snapshot win
 * lost the call from the timeline until the next re-read). Likewise a `call` event heard
 * while the current call is re-read wins over it (a stale "active" would keep an ended call's
 * view open), and one heard while a call is placed or answered wins over the command's answer
 * (a stale "connecting" would never turn active).
 *
 * What the devices said comes with the call (`notices`: "No camera found: the call goes on
 * with sound only") and later as `call_notice` events for this call (a headset unplugged);
 * the view shows them all, newest last, a few at most. So does what a switch of devices in the
 * call (the view's device panel) could not open as chosen.
 */
import {
  answerCall,
  callHistory,
  callQuality,
  currentCall,
  declineCall,
  hangUp,
  setCallCamera,
  setCallMuted,
  shareScreen,
  shareTargets,
  startCall,
  switchCallDevices,
  type AppError,
  type AppEvent,
  type Call,
  type CallInfo,
  type CallKind,
  type CallQuality,
  type MediaChoice,
  type ShareTarget,
} from '../lib/backend';
import { Heard } from '../lib/heard';
import { t } from '../lib/i18n/index.svelte';
import { FrameFeed } from './frameFeed';

/** How long an ended call's summary stays before the view closes. */
export const ENDED_SHOWN_FOR_MS = 4000;
/** Device notices kept for the view (a device that comes and goes says so each time). */
export const MAX_NOTICES = 4;
/** How often the call view reads the connection, in seconds. */
export const QUALITY_EVERY_S = 3;
/** The share target that is the whole screen (X11). */
export const WHOLE_SCREEN = 'screen';
/** The share target that is the desktop's own choice (Wayland's screen-sharing portal). */
export const PORTAL = 'portal';

export class CallSession {
  call = $state<CallInfo | null>(null);
  /** What the devices said about this call, in words, oldest first. */
  notices = $state<string[]>([]);
  /** The test tone (and test pattern) is sent instead of my microphone (and camera). */
  testTone = $state(false);
  /** My picture goes out (a video call whose camera or test pattern opened). */
  hasCamera = $state(true);
  muted = $state(false);
  cameraOn = $state(true);
  peerMuted = $state(false);
  peerCamera = $state(true);
  /** Pictures arrive from my partner (a video call, or a screen shared in a voice call). */
  remoteVideo = $state(false);
  /** The connection over the last seconds, read every few seconds while the call is active. */
  quality = $state<CallQuality | null>(null);
  /** What can be shared, once asked for (`null`: not asked, or the menu is closed). */
  shareChoices = $state<ShareTarget[] | null>(null);
  /** The screen or window I share now instead of my camera (`WHOLE_SCREEN`, `window:…`, or `PORTAL`). */
  sharing = $state<ShareTarget | null>(null);
  /** The last thing that went wrong, in words. */
  error = $state<AppError | null>(null);
  /** Newest first. */
  history = $state<Call[]>([]);
  /** Ticks every second while a call is active (the timer reads it). */
  now = $state(Date.now());
  busy = $state(false);

  readonly remote = new FrameFeed();
  readonly preview = new FrameFeed();

  /** Call records heard, and calls whose state was heard (a re-read is older than either). */
  #recorded = new Heard<string>();
  #changed = new Heard<string>();

  private ticker: ReturnType<typeof setInterval> | undefined;
  private closer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly clock: () => number = () => Date.now()) {
    this.now = clock();
  }

  /** Ringing here, waiting for my answer. */
  get ringing(): boolean {
    return this.call?.direction === 'incoming' && this.call.phase === 'ringing';
  }

  /** Shown in the call view (placed, answered, active, or just ended). */
  get open(): boolean {
    return this.call !== null && !this.ringing;
  }

  /** Milliseconds since the call was answered (0 before). */
  get elapsedMs(): number {
    const c = this.call;
    if (!c?.answered_at) return 0;
    return Math.max(0, (c.ended_at ?? this.now) - c.answered_at);
  }

  /** Picks up a call already in progress (the window reloaded) and the history. */
  async load(): Promise<void> {
    const asked = this.#recorded.mark();
    const askedCalls = this.#changed.mark();
    const [current, history] = await Promise.all([currentCall(), callHistory()]);
    if (current.ok && current.value && this.#changed.since(askedCalls).length === 0) this.update(current.value);
    if (history.ok && Array.isArray(history.value)) this.takeHistory(history.value, asked);
  }

  async loadHistory(): Promise<void> {
    const asked = this.#recorded.mark();
    const history = await callHistory();
    if (history.ok && Array.isArray(history.value)) this.takeHistory(history.value, asked);
  }

  /** A re-read history, asked for when `asked` records had been heard: what was heard since wins. */
  private takeHistory(snapshot: Call[], asked: number): void {
    const ids = new Set(this.#recorded.since(asked));
    const newer = this.history.filter((c) => ids.has(c.id));
    this.history = [...newer, ...snapshot.filter((c) => !ids.has(c.id))].sort((a, b) => b.started_at - a.started_at);
  }

  handle(event: AppEvent): void {
    switch (event.event) {
      case 'call':
        this.#changed.hear(event.call.id);
        this.update(event.call);
        break;
      case 'call_peer_media':
        if (event.call !== this.call?.id) break;
        if (event.muted !== null) this.peerMuted = event.muted;
        if (event.camera !== null) this.peerCamera = event.camera;
        break;
      case 'call_recorded':
        this.#recorded.hear(event.call.id);
        this.history = [event.call, ...this.history.filter((c) => c.id !== event.call.id)];
        break;
      case 'call_notice':
        if (event.call === this.call?.id) this.note([event.words]);
        break;
      case 'resync':
        void this.load();
        break;
    }
  }

  async start(kind: CallKind): Promise<void> {
    if (this.busy) return;
    this.reset();
    await this.join(() => startCall(kind, this.pushRemote, this.preview.push));
  }

  async answer(): Promise<void> {
    if (this.busy) return;
    this.error = null;
    await this.join(() => answerCall(this.pushRemote, this.preview.push));
  }

  /** A picture from my partner: painted, and the stage shown once the first one arrives. */
  private pushRemote = (frame: Parameters<FrameFeed['push']>[0]): void => {
    this.remote.push(frame);
    if (!this.remoteVideo) this.remoteVideo = true;
  };

  /** Opens the list of what can be shared (said in words where sharing cannot work). */
  async chooseShare(): Promise<void> {
    const outcome = await shareTargets();
    if (!outcome.ok) {
      this.error = outcome.error;
      return;
    }
    this.error = null;
    // On Wayland the desktop's own dialog is the only choice: open it at once.
    const [only] = outcome.value;
    if (outcome.value.length === 1 && only?.id === PORTAL) {
      await this.share(only);
      return;
    }
    this.shareChoices = outcome.value;
  }

  /**
   * Shares `target` instead of my camera; `null` stops sharing (in a video call the camera
   * comes back) or, when nothing is shared, just closes the list.
   */
  async share(target: ShareTarget | null): Promise<void> {
    this.shareChoices = null;
    if (target === null && this.sharing === null) return;
    const outcome = await shareScreen(target?.id ?? null);
    if (target === null) {
      // Stopped even when the camera could not come back (the error says why).
      this.sharing = null;
      this.cameraOn = outcome.ok && this.call?.kind === 'video';
      this.hasCamera = this.cameraOn;
    }
    if (!outcome.ok) {
      this.error = outcome.error;
      return;
    }
    this.error = null;
    if (target !== null) {
      this.sharing = target;
      this.cameraOn = true;
    }
  }

  /**
   * Switches the call to the devices of `choice` (kept for later calls too); what did not
   * open as chosen joins the notices. Resolves to why it could not switch (the panel says it
   * there), or `null`.
   */
  async switchDevices(choice: MediaChoice): Promise<AppError | null> {
    const id = this.call?.id;
    const outcome = await switchCallDevices(choice);
    if (!outcome.ok) return outcome.error;
    if (this.call?.id === id) this.note(outcome.value);
    return null;
  }

  /** Reads the connection now (the ticker asks every few seconds). */
  async readQuality(): Promise<void> {
    if (this.call?.phase !== 'active') return;
    const outcome = await callQuality();
    if (outcome.ok && this.call?.phase === 'active') this.quality = outcome.value;
  }

  /** Places or answers a call: one request at a time, what its devices said and its state kept. */
  private async join(request: () => ReturnType<typeof answerCall>): Promise<void> {
    this.busy = true;
    const asked = this.#changed.mark();
    const outcome = await request();
    this.busy = false;
    if (!outcome.ok) {
      this.error = outcome.error;
      return;
    }
    // The answer holds the call as it was when the command returned; an event about it heard
    // meanwhile is as new or newer (the node emits every change, in order). Letting the answer
    // win left an answered call "Connecting…" for good when it went active within those
    // milliseconds, with both people talking.
    if (!this.#changed.since(asked).includes(outcome.value.call.id)) this.update(outcome.value.call);
    this.testTone = outcome.value.test_tone;
    this.hasCamera = outcome.value.camera;
    this.note(outcome.value.notices);
  }

  async decline(): Promise<void> {
    const outcome = await declineCall();
    if (!outcome.ok) this.error = outcome.error;
  }

  async hangUp(): Promise<void> {
    const outcome = await hangUp();
    if (!outcome.ok) {
      this.error = outcome.error;
      // The node has no call any more (it ended on the other side meanwhile): close.
      if (outcome.error.code === 'not_allowed') this.close();
    }
  }

  async toggleMute(): Promise<void> {
    const want = !this.muted;
    this.muted = want;
    const outcome = await setCallMuted(want);
    if (!outcome.ok) {
      this.muted = !want;
      this.error = outcome.error;
    }
  }

  async toggleCamera(): Promise<void> {
    const want = !this.cameraOn;
    this.cameraOn = want;
    const outcome = await setCallCamera(want);
    if (!outcome.ok) {
      this.cameraOn = !want;
      this.error = outcome.error;
    }
  }

  /** Dismisses an ended call now. */
  close(): void {
    clearTimeout(this.closer);
    this.stopTicker();
    this.call = null;
    this.remote.clear();
    this.preview.clear();
  }

  dispose(): void {
    clearTimeout(this.closer);
    this.stopTicker();
  }

  private update(info: CallInfo): void {
    if (this.call && this.call.id !== info.id && this.call.phase !== 'ended' && info.phase === 'ended') {
      return; // a stale end of another call
    }
    if (this.call?.id !== info.id) {
      clearTimeout(this.closer);
      this.reset();
    }
    this.call = info;
    this.now = this.clock();
    if (info.phase === 'active') {
      this.startTicker();
    } else if (info.phase === 'ended') {
      this.stopTicker();
      clearTimeout(this.closer);
      this.closer = setTimeout(() => {
        if (this.call?.id === info.id) this.close();
      }, ENDED_SHOWN_FOR_MS);
      void this.loadHistory();
    }
  }

  private note(words: string[]): void {
    this.notices = [...this.notices, ...words].slice(-MAX_NOTICES);
  }

  private reset(): void {
    this.error = null;
    this.notices = [];
    this.testTone = false;
    this.hasCamera = true;
    this.muted = false;
    this.cameraOn = true;
    this.peerMuted = false;
    this.peerCamera = true;
    this.remoteVideo = false;
    this.quality = null;
    this.shareChoices = null;
    this.sharing = null;
    this.remote.clear();
    this.preview.clear();
  }

  private startTicker(): void {
    if (this.ticker) return;
    let ticks = 0;
    this.ticker = setInterval(() => {
      this.now = this.clock();
      ticks += 1;
      if (ticks % QUALITY_EVERY_S === 0) void this.readQuality();
    }, 1000);
  }

  private stopTicker(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
  }
}

/** `m:ss`, or `h:mm:ss` past an hour. */
export function callTimer(ms: number): string {
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** What the call view says under the name. */
export function phaseText(info: CallInfo, elapsedMs: number): string {
  switch (info.phase) {
    case 'calling':
      return t('calls.phase.calling');
    case 'ringing':
      return info.direction === 'outgoing' ? t('calls.phase.ringing') : t('calls.phase.incoming');
    case 'connecting':
      return t('calls.phase.connecting');
    case 'active':
      return callTimer(elapsedMs);
    case 'ended':
      return endedText(info, elapsedMs);
  }
}

function endedText(info: CallInfo, elapsedMs: number): string {
  switch (info.outcome) {
    case 'ended':
      return t('calls.phase.ended', { duration: callTimer(elapsedMs) });
    case 'declined':
      return info.direction === 'outgoing' ? t('calls.phase.declined') : t('calls.phase.youDeclined');
    case 'busy':
      return t('calls.phase.busy');
    case 'missed':
      return info.direction === 'outgoing' ? t('calls.phase.noAnswer') : t('calls.phase.missed');
    case 'cancelled':
      return t('calls.phase.cancelled');
    case 'answered_elsewhere':
      return t('calls.phase.answeredElsewhere');
    case 'failed':
      return t('calls.phase.failed');
    default:
      return t('calls.phase.over');
  }
}

/** The one call session of the window. */
export const callSession = new CallSession();
