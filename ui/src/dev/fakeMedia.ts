/**
 * The fake backend's calls and attachments (see fakeBackend.ts): Ben's photo, a file and a
 * voice note in the history (a file still arriving, with progress), a missed and an ended call
 * in the call history, and calls that ring, connect and stream a moving test pattern over the
 * same frame channels the shell uses. `?mock=ringing`: Ben calls a few seconds after opening.
 * Settings → Audio & video (and the call view's device panel) lists a headset and no camera, its
 * meter wobbles like a voice, and a voice message reports its level and length as the shell does.
 */
import type { Attachment, Call, CallInfo, CallKind, MediaChoice, Message, NodeEvent, Target, VoiceNoteProgress } from '../lib/backend';
import { encodeFrame } from '../lib/backend';
import { BEN, MAYA, SPACE, message } from './seed';

interface FrameSink {
  onmessage: (data: ArrayBuffer) => void;
}

interface Sink<T> {
  onmessage: (message: T) => void;
}

/** What a call says about the fake devices: there is no camera here (the test tone's pattern stands in for one). */
function callStart(call: CallInfo, testTone: boolean) {
  const video = call.kind === 'video';
  const notices = video && !testTone ? ['No camera is plugged in: the call goes on with sound only'] : [];
  return { call, notices, test_tone: testTone, camera: video && testTone };
}
const HEADSET = { id: 'sysdefault:CARD=Headset', name: 'USB Headset, USB Audio', is_default: false };

/** A level that rises and falls like someone talking (RMS, 0 to 1). */
const voiceLevel = (t: number) => Math.max(0, 0.08 * Math.sin(t / 180) * Math.sin(t / 47) + 0.03);
const hash = (n: number) => n.toString(16).padStart(2, '0').repeat(32);
const PHOTO = hash(0x51);
const PHOTO_THUMB = hash(0x52);
const PDF = hash(0x53);
const VOICE = hash(0x54);
const ARRIVING = hash(0x55);

export const UNHANDLED = Symbol('unhandled');

/** The test pattern of duet-call: four colours and a white square sliding along the middle. */
function pattern(width: number, height: number, frame: number): Uint8Array {
  const px = new Uint8Array(width * height * 4);
  const colours = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 0],
  ];
  const side = Math.max(2, Math.floor(height / 10));
  const sx = (frame * 4) % Math.max(1, width - side);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const q = (y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1);
      const inSquare = x >= sx && x < sx + side && Math.abs(y - height / 2) < side / 2;
      const [r, g, b] = inSquare ? [255, 255, 255] : colours[q]!;
      const i = (y * width + x) * 4;
      px[i] = r!;
      px[i + 1] = g!;
      px[i + 2] = b!;
      px[i + 3] = 255;
    }
  }
  return px;
}

/** A picture for the fake photo: a warm gradient with a sun, as PNG bytes (another sky for a tint). */
async function photoBytes(width: number, height: number, tint: readonly [string, string, string] = ['#f6b38e', '#f9d8a6', '#6fa8b8']): Promise<Uint8Array> {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext('2d')!;
  const sky = g.createLinearGradient(0, 0, 0, height);
  sky.addColorStop(0, tint[0]);
  sky.addColorStop(0.6, tint[1]);
  sky.addColorStop(1, tint[2]);
  g.fillStyle = sky;
  g.fillRect(0, 0, width, height);
  g.fillStyle = '#fff3c4';
  g.beginPath();
  g.arc(width * 0.7, height * 0.45, height * 0.12, 0, Math.PI * 2);
  g.fill();
  g.fillStyle = '#3f7d8c';
  g.fillRect(0, height * 0.72, width, height * 0.28);
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
  return new Uint8Array(await (blob ?? new Blob()).arrayBuffer());
}

/** A short WAV beep for the fake voice note (the browser plays WAV; the app sends Ogg Opus). */
function beep(ms: number): Uint8Array {
  const rate = 8000;
  const n = Math.floor((rate * ms) / 1000);
  const out = new Uint8Array(44 + n * 2);
  const v = new DataView(out.buffer);
  const text = (at: number, s: string) => [...s].forEach((c, i) => v.setUint8(at + i, c.charCodeAt(0)));
  text(0, 'RIFF');
  v.setUint32(4, 36 + n * 2, true);
  text(8, 'WAVEfmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  text(36, 'data');
  v.setUint32(40, n * 2, true);
  for (let i = 0; i < n; i++) v.setInt16(44 + i * 2, Math.sin((2 * Math.PI * 440 * i) / rate) * 8000 * Math.min(1, (n - i) / 800), true);
  return out;
}

export function mediaHistory(now: number): Message[] {
  const d = { channel: null };
  const at = now - 3 * 3600_000;
  const photo: Attachment = {
    type: 'image',
    blob: PHOTO,
    url: `duet://blob/${PHOTO}`,
    name: 'sunset.png',
    size: 2_400_000,
    media: { image: { width: 640, height: 400, thumbnail: { blob: PHOTO_THUMB, url: `duet://blob/${PHOTO_THUMB}`, size: 9000, width: 320, height: 200 } } },
  };
  const pdf: Attachment = { type: 'file', blob: PDF, url: `duet://blob/${PDF}`, name: 'train tickets.pdf', size: 830_000, media: null };
  const voice: Attachment = {
    type: 'audio',
    blob: VOICE,
    url: `duet://blob/${VOICE}`,
    name: 'voice-1.ogg',
    size: 14_000,
    media: { voice: { duration_ms: 2_000, waveform: Array.from({ length: 48 }, (_, i) => Math.round(60 + 180 * Math.abs(Math.sin(i / 3)))) } },
  };
  const arriving: Attachment = { type: 'file', blob: ARRIVING, url: `duet://blob/${ARRIVING}`, name: 'our playlist.zip', size: 48_000_000, media: null };
  return [
    message(at, BEN, 'sunset.png', d, { message_type: 'image', attachments: [photo] }),
    message(at + 60_000, MAYA, 'train tickets.pdf', d, { message_type: 'file', attachments: [pdf] }),
    message(at + 120_000, BEN, '🎤 voice message', d, { message_type: 'voice', attachments: [voice] }),
    message(now - 60_000, BEN, 'our playlist.zip', d, { message_type: 'file', attachments: [arriving], read: false, read_at: null }),
  ];
}

/** Older photos, a voice note and a video for Memories (`memorySeed`): name, tint, hashes. */
const MEMORY_PHOTOS = [
  { name: 'picnic.png', tint: ['#9fd0f0', '#e8f4d8', '#6fb36f'], full: hash(0x61), thumb: hash(0x62) },
  { name: 'first trip.png', tint: ['#2c3e7a', '#d86f8c', '#f4b860'], full: hash(0x63), thumb: hash(0x64) },
  { name: 'market.png', tint: ['#f7c873', '#f29e6d', '#c45b5b'], full: hash(0x65), thumb: hash(0x66) },
] as const;
const MEMORY_VOICE = hash(0x67);
const MEMORY_VIDEO = hash(0x68);

/**
 * Older memories: a photo from a year ago today (direct) and from three years ago today (in
 * `plans`), for "On this day"; a photo six weeks ago, a voice note and a video months ago.
 * The thumbnails are here, the full photos arrive when asked for; the video never does.
 */
export function memorySeed(now: number, plans: string): Message[] {
  const day = new Date(now);
  const yearsAgo = (n: number) => new Date(day.getFullYear() - n, day.getMonth(), day.getDate(), 18, 30).getTime();
  const photo = (i: number): Attachment => {
    const p = MEMORY_PHOTOS[i]!;
    return {
      type: 'image',
      blob: p.full,
      url: `duet://blob/${p.full}`,
      name: p.name,
      size: 1_800_000,
      media: { image: { width: 640, height: 400, thumbnail: { blob: p.thumb, url: `duet://blob/${p.thumb}`, size: 9000, width: 320, height: 200 } } },
    };
  };
  const voice: Attachment = {
    type: 'audio',
    blob: MEMORY_VOICE,
    url: `duet://blob/${MEMORY_VOICE}`,
    name: 'voice-0.ogg',
    size: 30_000,
    media: { voice: { duration_ms: 5_400, waveform: Array.from({ length: 48 }, (_, i) => Math.round(50 + 160 * Math.abs(Math.cos(i / 4)))) } },
  };
  const video: Attachment = { type: 'video', blob: MEMORY_VIDEO, url: `duet://blob/${MEMORY_VIDEO}`, name: 'waves.mp4', size: 12_000_000, media: null };
  const direct = { channel: null };
  return [
    message(yearsAgo(3), MAYA, 'first trip.png', { channel: plans }, { message_type: 'image', attachments: [photo(1)] }),
    message(yearsAgo(1), BEN, 'picnic.png', direct, { message_type: 'image', attachments: [photo(0)] }),
    message(now - 100 * 86400_000, BEN, 'waves.mp4', direct, { message_type: 'file', attachments: [video] }),
    message(now - 70 * 86400_000, MAYA, '🎤 voice message', direct, { message_type: 'voice', attachments: [voice] }),
    message(now - 42 * 86400_000, BEN, 'market.png', direct, { message_type: 'image', attachments: [photo(2)] }),
  ];
}

export function callHistorySeed(now: number): Call[] {
  const base = { conversation: SPACE, participants: [MAYA.id, BEN.id] };
  return [
    { ...base, id: 'ca11'.repeat(8), caller: BEN.id, kind: 'voice', state: 'missed', started_at: now - 2.5 * 3600_000, answered_at: null, ended_at: now - 2.5 * 3600_000 + 30_000 },
    { ...base, id: 'ca12'.repeat(8), caller: MAYA.id, kind: 'video', state: 'ended', started_at: now - 2.4 * 3600_000, answered_at: now - 2.4 * 3600_000 + 4000, ended_at: now - 2.4 * 3600_000 + 4000 + 754_000 },
  ];
}

/** The fake node's calls, blobs and voice notes. */
export class FakeMedia {
  private call: CallInfo | null = null;
  private streams: ReturnType<typeof setInterval>[] = [];
  private sinks: { video?: FrameSink; preview?: FrameSink } = {};
  private readonly history: Call[];
  private readonly blobs = new Map<string, () => Promise<Uint8Array>>();
  private readonly have = new Map<string, number>();
  private recordingSince: number | null = null;
  private recordingTicker: ReturnType<typeof setInterval> | undefined;
  private meter: ReturnType<typeof setInterval> | undefined;
  private choice: MediaChoice = { microphone: null, speaker: null, camera: null, test_tone: false };

  constructor(
    now: number,
    private readonly send: (e: NodeEvent) => void,
    private readonly store: (m: Message) => void,
    mode: string,
    private readonly find: (id: string) => Message | undefined = () => undefined,
  ) {
    this.history = callHistorySeed(now);
    this.blobs.set(PHOTO, () => photoBytes(640, 400));
    this.blobs.set(PHOTO_THUMB, () => photoBytes(320, 200));
    this.blobs.set(PDF, async () => new TextEncoder().encode('%PDF-1.4 fake'));
    this.blobs.set(VOICE, async () => beep(2000));
    for (const p of MEMORY_PHOTOS) {
      this.blobs.set(p.full, () => photoBytes(640, 400, p.tint));
      this.blobs.set(p.thumb, () => photoBytes(320, 200, p.tint));
      this.have.set(p.thumb, 1);
    }
    this.blobs.set(MEMORY_VOICE, async () => beep(5400));
    for (const h of [PHOTO_THUMB, PDF, VOICE, MEMORY_VOICE]) this.have.set(h, 1);
    this.arrive(ARRIVING, 48_000_000, 1500, 9000);
    if (mode === 'ringing') setTimeout(() => this.incoming('video'), 3000);
  }

  /** Ben's device sends a blob over `ms` milliseconds. */
  private arrive(blob: string, total: number, delay: number, ms: number) {
    const steps = 30;
    for (let i = 1; i <= steps; i++) {
      setTimeout(() => {
        this.send({ event: 'blob_progress', blob, done: Math.round((total * i) / steps), total });
        if (i === steps) {
          this.have.set(blob, 1);
          this.send({ event: 'blob_complete', blob });
        }
      }, delay + (ms * i) / steps);
    }
  }

  private emit(call: CallInfo) {
    this.call = call.phase === 'ended' ? null : call;
    this.send({ event: 'call', call });
  }

  private incoming(kind: CallKind) {
    const t = Date.now();
    this.emit({ id: 'cafe'.repeat(8), kind, direction: 'incoming', caller: BEN.id, peer: BEN.id, peer_device: BEN.devices[0]!, phase: 'ringing', outcome: null, started_at: t, answered_at: null, ended_at: null });
  }

  private stream(kind: CallKind) {
    let frame = 0;
    if (kind !== 'video') return;
    this.streams.push(
      setInterval(() => {
        frame += 1;
        this.sinks.video?.onmessage(encodeFrame(320, 240, pattern(320, 240, frame)).buffer as ArrayBuffer);
        this.sinks.preview?.onmessage(encodeFrame(160, 120, pattern(160, 120, frame + 20)).buffer as ArrayBuffer);
      }, 1000 / 15),
    );
  }

  private end(outcome: 'ended' | 'declined' | 'cancelled') {
    const c = this.call;
    if (!c) return;
    for (const s of this.streams) clearInterval(s);
    this.streams = [];
    const t = Date.now();
    this.emit({ ...c, phase: 'ended', outcome, ended_at: t });
    const record: Call = {
      id: c.id,
      conversation: SPACE,
      caller: c.caller,
      participants: [MAYA.id, BEN.id],
      kind: c.kind,
      state: outcome === 'ended' ? 'ended' : outcome === 'declined' ? 'declined' : 'missed',
      started_at: c.started_at,
      answered_at: c.answered_at,
      ended_at: t,
    };
    this.history.unshift(record);
    setTimeout(() => this.send({ event: 'call_recorded', call: record }), 100);
  }

  handle(cmd: string, a: Record<string, unknown>): unknown {
    switch (cmd) {
      case 'media_devices':
        return { microphones: [HEADSET], speakers: [], cameras: [], chosen: this.choice };
      case 'set_media_devices':
        this.choice = a.choice as MediaChoice;
        return this.choice;
      case 'switch_call_devices': {
        // As the shell: only a call in progress switches, the choice is kept for later calls,
        // and a microphone that is not here is said in words (the default one is used).
        if (this.call?.phase !== 'active') throw { code: 'not_allowed', message: 'There is no call in progress to switch devices in.' };
        const choice = a.choice as MediaChoice;
        this.choice = choice;
        const microphone = choice.microphone;
        return microphone === null || microphone === HEADSET.id ? [] : [`The microphone “${microphone}” was not found: using the default microphone`];
      }
      case 'start_microphone_meter': {
        clearInterval(this.meter);
        const levels = a.levels as Sink<number>;
        this.meter = setInterval(() => levels.onmessage(voiceLevel(Date.now())), 50);
        return null;
      }
      case 'stop_microphone_meter':
        clearInterval(this.meter);
        return null;
      case 'play_test_sound':
        return later(670, null);
      case 'call_history':
        return [...this.history];
      case 'current_call':
        return this.call;
      case 'start_call': {
        const kind = a.kind as CallKind;
        this.sinks = { video: a.video as FrameSink, preview: a.preview as FrameSink };
        const t = Date.now();
        const call: CallInfo = { id: Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32), kind, direction: 'outgoing', caller: MAYA.id, peer: BEN.id, peer_device: null, phase: 'calling', outcome: null, started_at: t, answered_at: null, ended_at: null };
        this.call = call;
        setTimeout(() => this.call?.id === call.id && this.emit({ ...call, phase: 'ringing', peer_device: BEN.devices[0]! }), 400);
        setTimeout(() => this.call?.id === call.id && this.emit({ ...call, phase: 'connecting', peer_device: BEN.devices[0]! }), 2400);
        setTimeout(() => {
          if (this.call?.id !== call.id) return;
          this.emit({ ...call, phase: 'active', peer_device: BEN.devices[0]!, answered_at: Date.now() });
          this.stream(kind);
        }, 3000);
        return callStart(call, this.choice.test_tone);
      }
      case 'answer_call': {
        const c = this.call;
        if (!c || c.phase !== 'ringing') throw { code: 'not_allowed', message: 'No call is ringing.' };
        this.sinks = { video: a.video as FrameSink, preview: a.preview as FrameSink };
        const connecting = { ...c, phase: 'connecting' as const };
        this.call = connecting;
        setTimeout(() => {
          if (this.call?.id !== c.id) return;
          this.emit({ ...c, phase: 'active', answered_at: Date.now() });
          this.stream(c.kind);
        }, 600);
        return callStart(connecting, this.choice.test_tone);
      }
      case 'decline_call':
        this.end('declined');
        return null;
      case 'hang_up':
        if (!this.call) throw { code: 'not_allowed', message: 'There is no call to hang up.' };
        this.end(this.call.answered_at ? 'ended' : 'cancelled');
        return null;
      case 'set_call_muted':
      case 'set_call_camera':
        if (!this.call) throw { code: 'not_allowed', message: 'There is no call with media now.' };
        return null;
      case 'call_quality':
        // A good line that drops for a few seconds every half minute.
        if (this.call?.phase !== 'active') return null;
        return Date.now() % 30_000 < 6_000
          ? { round_trip_ms: 380, loss_percent: 11, incoming_kbps: 12, outgoing_kbps: 28, poor: true, relayed: false }
          : { round_trip_ms: 38, loss_percent: 0, incoming_kbps: 44, outgoing_kbps: 42, poor: false, relayed: false };
      case 'share_targets':
        return [
          { id: 'screen', name: 'Whole screen' },
          { id: 'window:0x2a', name: 'Holiday plans — Notes' },
        ];
      case 'share_screen':
        if (!this.call) throw { code: 'not_found', message: 'There is no call to share your screen in.' };
        return null;
      case 'blob_status': {
        const h = String(a.hash);
        return this.have.has(h) ? { hash: h, size: 1, have: 1 } : null;
      }
      case 'read_blob': {
        const make = this.blobs.get(String(a.hash));
        if (!make || !this.have.has(String(a.hash))) throw { code: 'not_found', message: 'That attachment is not on this device yet.' };
        return make().then((b) => b.buffer);
      }
      case 'fetch_attachment': {
        const wanted = this.find(String(a.message))?.attachments[Number(a.index)];
        if (wanted && wanted.blob !== PHOTO) {
          if (!this.blobs.has(wanted.blob)) {
            return later(600, null).then(() => {
              throw { code: 'blob_not_here', message: 'No device that has it is online.' };
            });
          }
          this.arrive(wanted.blob, wanted.size, 0, 1200);
          return new Promise((resolve) => setTimeout(() => resolve({}), 1300));
        }
        this.arrive(PHOTO, 2_400_000, 0, 1200);
        return new Promise((resolve) => setTimeout(() => resolve({}), 1300));
      }
      case 'save_attachment':
        return later(300, '/home/maya/Downloads/train tickets.pdf');
      case 'send_file_bytes':
        throw { code: 'not_allowed', message: 'The preview (?mock) cannot send files: try it in the Duet app.' };
      case 'start_voice_note': {
        const since = Date.now();
        const progress = a.progress as Sink<VoiceNoteProgress>;
        this.recordingSince = since;
        clearInterval(this.recordingTicker);
        this.recordingTicker = setInterval(() => {
          const t = Date.now();
          progress.onmessage({ level: voiceLevel(t), recorded_ms: t - since, full: false, notice: null });
        }, 40);
        return { notices: [], test_tone: this.choice.test_tone };
      }
      case 'stop_voice_note': {
        const since = this.recordingSince;
        this.recordingSince = null;
        clearInterval(this.recordingTicker);
        if (since === null) throw { code: 'not_found', message: 'Nothing is being recorded.' };
        const target = a.target as Target | null;
        if (!target) return null;
        const ms = Date.now() - since;
        if (ms < 500) throw { code: 'invalid_input', message: 'That voice message was too short: hold the button for at least half a second.' };
        const blob = Math.random().toString(16).slice(2, 10).repeat(8);
        this.blobs.set(blob, async () => beep(ms));
        this.have.set(blob, 1);
        const m = message(Date.now(), MAYA, '🎤 voice message', { channel: target === 'direct' ? null : target.channel }, {
          message_type: 'voice',
          read: false,
          read_at: null,
          attachments: [{ type: 'audio', blob, url: `duet://blob/${blob}`, name: 'voice.ogg', size: 9000, media: { voice: { duration_ms: ms, waveform: Array.from({ length: 48 }, () => 170) } } }],
        });
        this.store(m);
        setTimeout(() => this.send({ event: 'message_new', message: m }), 0);
        return m;
      }
      default:
        return UNHANDLED;
    }
  }
}

function later<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}
