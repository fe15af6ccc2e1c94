import { describe, expect, it } from 'vitest';
import { defaultConfig, parseConfig } from '../../src-shared/config/schema';
import { Endpointer, type EndpointerEvent, type EndpointerSettings } from '../../src-main/mock-call/endpointer';
import { FRAME_MS, FRAME_SAMPLES } from '../../src-main/mock-call/vad/classifier';
import { settingsFromConfig } from '../../src-main/mock-call/settings';
import { heardText } from '../../src-main/mock-call/heard-text';

const PHONE: EndpointerSettings = { preRollMs: 1200, minSpeechMs: 180, endSilenceMs: 520, maxUtteranceMs: 8000, threshold: 0.5 };

/** Feeds a score pattern ('s' speech 0.9, '.' silence 0.05, 'm' 0.4 = between the thresholds); each frame's samples hold its index. */
function drive(ep: Endpointer, pattern: string, startIndex = 0): { events: { at: number; ev: EndpointerEvent }[]; next: number } {
  const events: { at: number; ev: EndpointerEvent }[] = [];
  let i = startIndex;
  for (const ch of pattern) {
    const frame = new Int16Array(FRAME_SAMPLES).fill(i);
    const ev = ep.push(frame, ch === 's' ? 0.9 : ch === 'm' ? 0.4 : 0.05);
    if (ev) events.push({ at: i, ev });
    i++;
  }
  return { events, next: i };
}

const frames = (ms: number) => Math.ceil(ms / FRAME_MS);

describe('endpointer (phone rules on VAD frames)', () => {
  it('cuts an utterance after the end-of-speech silence, with pre-roll before the onset', () => {
    const ep = new Endpointer(PHONE);
    const pre = frames(2000); // more silence than the pre-roll holds
    const speech = 20;
    const { events } = drive(ep, '.'.repeat(pre) + 's'.repeat(speech) + '.'.repeat(40));
    const types = events.map((e) => e.ev.type);
    expect(types).toEqual(['onset', 'utterance']);
    const u = (events[1].ev as Extract<EndpointerEvent, { type: 'utterance' }>).utterance;
    const preRollFrames = Math.floor(PHONE.preRollMs / FRAME_MS);
    const silenceFrames = Math.ceil(PHONE.endSilenceMs / FRAME_MS);
    expect(u.cut).toBe('silence');
    expect(u.speechMs).toBe(speech * FRAME_MS);
    expect(u.preRollMs).toBe(preRollFrames * FRAME_MS);
    expect(u.trailingSilenceMs).toBe(silenceFrames * FRAME_MS);
    expect(u.audio.samples.length).toBe((preRollFrames + speech + silenceFrames) * FRAME_SAMPLES);
    // the first sample is the oldest pre-roll frame: frame index pre - preRollFrames
    expect(u.audio.samples[0]).toBe(pre - preRollFrames);
    // decided exactly when the silence reached 520 ms
    expect(events[1].at).toBe(pre + speech + silenceFrames - 1);
  });

  it('keeps speech going through short dips and scores between the two thresholds', () => {
    const ep = new Endpointer(PHONE);
    // 'm' (0.4) would not start speech but keeps it going; 10 frames of dip < 520 ms
    const { events } = drive(ep, '...' + 'sssss' + 'mmmm' + '.'.repeat(10) + 'sssss' + '.'.repeat(20));
    expect(events.map((e) => e.ev.type)).toEqual(['onset', 'utterance']);
    const { events: none } = drive(new Endpointer(PHONE), 'mmmmmmmmmm');
    expect(none).toEqual([]);
  });

  it('discards speech shorter than the minimum and uses it as pre-roll for the next onset', () => {
    const ep = new Endpointer(PHONE);
    const short = Math.floor(PHONE.minSpeechMs / FRAME_MS) - 1; // 5 frames = 160 ms
    const r1 = drive(ep, '....' + 's'.repeat(short) + '.'.repeat(20));
    expect(r1.events.map((e) => e.ev.type)).toEqual(['onset', 'discarded']);
    expect((r1.events[1].ev as { speechMs: number }).speechMs).toBe(short * FRAME_MS);
    const r2 = drive(ep, 's'.repeat(10) + '.'.repeat(20), r1.next);
    const u = r2.events.find((e) => e.ev.type === 'utterance')!.ev as Extract<EndpointerEvent, { type: 'utterance' }>;
    // the discarded blip sits inside the pre-roll of the real utterance
    expect(Array.from(new Set(u.utterance.audio.samples))).toContain(4);
  });

  it('cuts hard at the maximum utterance length and starts the next one if speech goes on', () => {
    const ep = new Endpointer({ ...PHONE, preRollMs: 0, maxUtteranceMs: 1000 });
    const { events } = drive(ep, 's'.repeat(70) + '.'.repeat(20));
    const utts = events.filter((e) => e.ev.type === 'utterance').map((e) => (e.ev as Extract<EndpointerEvent, { type: 'utterance' }>).utterance);
    expect(utts.slice(0, 2).map((u) => u.cut)).toEqual(['max_length', 'max_length']);
    for (const u of utts.slice(0, 2)) expect(u.audio.samples.length).toBe(frames(1000) * FRAME_SAMPLES);
    expect(utts.at(-1)!.cut).toBe('silence');
    expect(utts.reduce((n, u) => n + u.speechMs, 0)).toBe(70 * FRAME_MS);
  });

  it('hands over a pending utterance at the end of the input, if it holds enough speech', () => {
    const ep = new Endpointer(PHONE);
    drive(ep, '..' + 's'.repeat(10) + '..');
    const ev = ep.finish();
    expect(ev?.type).toBe('utterance');
    expect((ev as Extract<EndpointerEvent, { type: 'utterance' }>).utterance.cut).toBe('end_of_input');
    const ep2 = new Endpointer(PHONE);
    drive(ep2, '..ss..');
    expect(ep2.finish()?.type).toBe('discarded');
    expect(new Endpointer(PHONE).finish()).toBeNull();
  });

  it('reset forgets the pre-roll and any utterance in progress', () => {
    const ep = new Endpointer(PHONE);
    drive(ep, '.'.repeat(30) + 'sss');
    expect(ep.active).toBe(true);
    ep.reset();
    expect(ep.active).toBe(false);
    const { events } = drive(ep, 's'.repeat(10) + '.'.repeat(20));
    const u = (events[1].ev as Extract<EndpointerEvent, { type: 'utterance' }>).utterance;
    expect(u.preRollMs).toBe(0);
  });
});

describe('mock-call config section', () => {
  it('defaults to the phone endpointing constants (phone spec §2.2) and half-duplex', () => {
    const s = settingsFromConfig(defaultConfig());
    expect(s.endpointing).toMatchObject({ preRollMs: 1200, minSpeechMs: 180, endSilenceMs: 520, maxUtteranceMs: 8000, threshold: 0.5 });
    expect(s.bargeIn).toBe(false);
    expect(s.vad.engine).toBe('silero');
    expect(defaultConfig()).toMatchObject({ mock_input_device: '', mock_output_device: '', mock_recorder: 'auto' });
  });

  it('fills the owner into the chosen greeting', () => {
    const cfg = parseConfig({ greeting_owner: 'Ada', greeting_incoming: 'Hi, {owner} here.', greeting_outgoing: 'Calling for {owner}.' });
    expect(settingsFromConfig(cfg).greeting).toBe('Hi, Ada here.');
    expect(settingsFromConfig(cfg, { greeting: 'outgoing' }).greeting).toBe('Calling for Ada.');
  });

  it('rejects out-of-range thresholds and device names that are not ALSA names', () => {
    expect(() => parseConfig({ mock_vad_end_silence_ms: 10 })).toThrow(/mock_vad_end_silence_ms/);
    expect(() => parseConfig({ mock_vad_threshold: 1.5 })).toThrow(/mock_vad_threshold/);
    expect(() => parseConfig({ mock_input_device: '-D; rm -rf /' })).toThrow(/mock_input_device/);
    expect(parseConfig({ mock_output_device: 'plughw:CARD=PCH,DEV=0' }).mock_output_device).toBe('plughw:CARD=PCH,DEV=0');
  });
});

describe('heard text after barge-in', () => {
  const reply = 'The table for two is booked for seven tomorrow evening.';
  it('keeps the words whose audio was played, never a partial word', () => {
    expect(heardText(reply, 0, 1000)).toBe('');
    expect(heardText(reply, 1000, 1000)).toBe(reply);
    const half = heardText(reply, 500, 1000);
    expect(reply.startsWith(half)).toBe(true);
    expect(half.split(' ').length).toBeLessThan(reply.split(' ').length);
    expect(reply.split(' ')).toEqual(expect.arrayContaining(half.split(' ')));
    expect(heardText(reply, 50, 1000)).toBe(''); // 'Th' of 'The' is not the word
    expect(heardText(reply, 60, 1000)).toBe('The');
  });
});
