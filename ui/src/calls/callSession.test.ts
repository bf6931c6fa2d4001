import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { encodeFrame, type Channel } from './testing';
import { CallSession, ENDED_SHOWN_FOR_MS, callTimer, phaseText } from './callSession.svelte';
import type { Call, CallInfo } from '../lib/backend';
import { callInfo } from './fixtures';
import { callNoteText } from './history';
import { language } from '../lib/i18n/index.svelte';

/** A call record as the node keeps it (the fixture call, ended after a minute). */
function record(over: Partial<Call> = {}): Call {
  const info = callInfo();
  return {
    id: info.id,
    conversation: 'd0'.repeat(16),
    caller: info.caller,
    participants: [info.caller, info.peer],
    kind: info.kind,
    state: 'ended',
    started_at: info.started_at,
    answered_at: info.started_at,
    ended_at: info.started_at + 60_000,
    ...over,
  };
}

let t = 1_000_000;
const clock = () => t;

beforeEach(() => {
  vi.useFakeTimers();
  t = 1_000_000;
});
afterEach(() => {
  vi.useRealTimers();
  clearMocks();
  language.choose('system');
});

describe('the call session', () => {
  it('goes from calling through ringing to an active call whose timer runs, then ends and closes', async () => {
    const calls: string[] = [];
    let video: Channel | undefined;
    mockIPC((cmd, args) => {
      calls.push(cmd);
      if (cmd === 'start_call') {
        video = (args as { video: Channel }).video;
        return { call: callInfo(), notices: [], test_tone: false, camera: true };
      }
      if (cmd === 'call_history') return [];
      return null;
    });
    const s = new CallSession(clock);
    await s.start('video');
    expect(calls).toContain('start_call');
    expect(s.open).toBe(true);
    expect(phaseText(s.call!, s.elapsedMs)).toBe('Calling…');

    s.handle({ event: 'call', call: callInfo({ phase: 'ringing' }) });
    expect(phaseText(s.call!, s.elapsedMs)).toBe('Ringing…');

    s.handle({ event: 'call', call: callInfo({ phase: 'active', answered_at: t }) });
    expect(phaseText(s.call!, s.elapsedMs)).toBe('0:00');
    t += 65_000;
    vi.advanceTimersByTime(1000);
    expect(phaseText(s.call!, s.elapsedMs)).toBe('1:05');

    // The partner's video arrives on the channel the shell was given.
    video!.onmessage(encodeFrame(2, 2, new Uint8Array(16).fill(200)).buffer as ArrayBuffer);
    expect(s.remote.count).toBe(1);
    expect(s.remote.latest?.width).toBe(2);

    s.handle({
      event: 'call',
      call: callInfo({ phase: 'ended', outcome: 'ended', answered_at: 1_000_000, ended_at: 1_000_000 + 65_000 }),
    });
    expect(phaseText(s.call!, s.elapsedMs)).toBe('Call ended · 1:05');
    // The timer stops with the call.
    t += 10_000;
    vi.advanceTimersByTime(1000);
    expect(s.elapsedMs).toBe(65_000);
    vi.advanceTimersByTime(ENDED_SHOWN_FOR_MS);
    expect(s.call).toBeNull();
    expect(s.remote.count).toBe(0);
  });

  it('rings for an incoming call and answers it with frame channels', async () => {
    const seen: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      seen.push([cmd, args]);
      if (cmd === 'answer_call') {
        return { call: callInfo({ direction: 'incoming', phase: 'connecting', caller: 'bb'.repeat(32) }), notices: [], test_tone: false, camera: true };
      }
      return null;
    });
    const s = new CallSession(clock);
    s.handle({ event: 'call', call: callInfo({ direction: 'incoming', phase: 'ringing' }) });
    expect(s.ringing).toBe(true);
    expect(s.open).toBe(false);
    await s.answer();
    const [, args] = seen.find(([c]) => c === 'answer_call')!;
    expect(Object.keys(args as object).sort()).toEqual(['preview', 'video']);
    expect(s.ringing).toBe(false);
    expect(s.open).toBe(true);
  });

  it('keeps the call active when it went active while the answer was on its way', async () => {
    let answer: ((value: unknown) => void) | null = null;
    mockIPC((cmd) => (cmd === 'answer_call' ? new Promise((r) => (answer = r)) : null));
    const s = new CallSession(clock);
    s.handle({ event: 'call', call: callInfo({ direction: 'incoming', phase: 'ringing' }) });
    const answering = s.answer();
    await vi.waitFor(() => expect(answer).not.toBeNull());
    // The node connects and the call goes active before the command's answer arrives.
    s.handle({ event: 'call', call: callInfo({ direction: 'incoming', phase: 'connecting' }) });
    s.handle({ event: 'call', call: callInfo({ direction: 'incoming', phase: 'active', answered_at: t }) });
    answer!({ call: callInfo({ direction: 'incoming', phase: 'connecting' }), notices: [], test_tone: true, camera: true });
    await answering;
    expect(s.call?.phase).toBe('active');
    expect(s.testTone).toBe(true);
    s.dispose();
  });

  it('says why a call could not start, and rolls back a mute the node refused', async () => {
    mockIPC((cmd) => {
      if (cmd === 'start_call') throw { code: 'not_allowed', message: 'Ben is not online: none of their devices is connected.' };
      if (cmd === 'set_call_muted') throw { code: 'not_allowed', message: 'There is no call with media now.' };
      return null;
    });
    const s = new CallSession(clock);
    await s.start('voice');
    expect(s.call).toBeNull();
    expect(s.error?.message).toBe('Ben is not online: none of their devices is connected.');
    await s.toggleMute();
    expect(s.muted).toBe(false);
  });

  it('follows my partner muting and turning the camera off', () => {
    const s = new CallSession(clock);
    s.handle({ event: 'call', call: callInfo({ phase: 'active', answered_at: t }) });
    s.handle({ event: 'call_peer_media', call: callInfo().id, muted: true, camera: null });
    s.handle({ event: 'call_peer_media', call: callInfo().id, muted: null, camera: false });
    expect(s.peerMuted).toBe(true);
    expect(s.peerCamera).toBe(false);
    s.dispose();
  });

  it('keeps a call record heard while the history is re-read (the end and the record cross)', async () => {
    // The callee's call ends and the history is re-read; the caller's record arrives; then the
    // re-read answers with what the node held when it was asked: not that record yet.
    let answer: ((calls: Call[]) => void) | null = null;
    mockIPC((cmd) => (cmd === 'call_history' ? new Promise<Call[]>((r) => (answer = r)) : null));
    const s = new CallSession(clock);
    const older = record({ id: 'a1'.repeat(16), started_at: 500_000 });
    s.history = [older];
    const rereading = s.loadHistory();
    await vi.waitFor(() => expect(answer).not.toBeNull());
    const heard = record();
    s.handle({ event: 'call_recorded', call: heard });
    answer!([older]);
    await rereading;
    expect(s.history.map((c) => c.id)).toEqual([heard.id, older.id]);
    // A later re-read that holds it keeps one copy.
    answer = null;
    const again = s.loadHistory();
    await vi.waitFor(() => expect(answer).not.toBeNull());
    answer!([heard, older]);
    await again;
    expect(s.history.map((c) => c.id)).toEqual([heard.id, older.id]);
    s.dispose();
  });

  it('keeps a call event heard while the current call is re-read', async () => {
    let answer: ((call: CallInfo) => void) | null = null;
    mockIPC((cmd) => {
      if (cmd === 'current_call') return new Promise<CallInfo>((r) => (answer = r));
      return cmd === 'call_history' ? [] : null;
    });
    const s = new CallSession(clock);
    const rereading = s.load();
    await vi.waitFor(() => expect(answer).not.toBeNull());
    s.handle({ event: 'call', call: callInfo({ phase: 'ended', outcome: 'ended', answered_at: t, ended_at: t }) });
    answer!(callInfo({ phase: 'active', answered_at: t }));
    await rereading;
    expect(s.call?.phase).toBe('ended');
    s.dispose();
  });

  it('words each ending', () => {
    expect(phaseText(callInfo({ phase: 'ended', outcome: 'missed', direction: 'incoming' }), 0)).toBe('Missed call');
    expect(phaseText(callInfo({ phase: 'ended', outcome: 'missed' }), 0)).toBe('No answer');
    expect(phaseText(callInfo({ phase: 'ended', outcome: 'declined' }), 0)).toBe('Declined');
    expect(phaseText(callInfo({ phase: 'ended', outcome: 'busy' }), 0)).toBe('Busy: already in another call');
    expect(callTimer(3_725_000)).toBe('1:02:05');
  });

  it('words the calls of the timeline, in English and in French', () => {
    const caller = callInfo().caller;
    const peer = callInfo().peer;
    const nameOf = (id: string) => (id === peer ? 'Ben' : 'Maya');
    expect(callNoteText(record(), caller, nameOf)).toBe('Video call · 1:00');
    expect(callNoteText(record({ state: 'missed', kind: 'voice' }), caller, nameOf)).toBe('Ben missed your voice call');
    expect(callNoteText(record({ state: 'missed', kind: 'voice' }), peer, nameOf)).toBe('Missed voice call from Maya');
    expect(callNoteText(record({ state: 'declined' }), peer, nameOf)).toBe('You declined a video call');

    language.choose('fr');
    expect(callNoteText(record(), caller, nameOf)).toBe('Appel vidéo · 1:00');
    expect(callNoteText(record({ state: 'missed', kind: 'voice' }), caller, nameOf)).toBe('Ben a manqué votre appel vocal');
    expect(callNoteText(record({ state: 'declined' }), peer, nameOf)).toBe('Vous avez refusé un appel vidéo');
    expect(phaseText(callInfo({ phase: 'ended', outcome: 'busy' }), 0)).toBe('Occupé : déjà dans un autre appel');
    expect(phaseText(callInfo({ phase: 'ringing' }), 0)).toBe('Ça sonne…');
  });
});
