/**
 * Pre-synthesised speech queued on a call (spec §8.8): `inject`, the operator's "say now", and
 * replies that arrive after the holding phrase. Each is spoken on the call's next caller turn.
 */
import type { Session } from '../calls/session';
import type { AgentDeps, CmdResult } from './types';

const ms1 = (n: number) => Math.round(n * 10) / 10;

export async function queueSpeech(deps: AgentDeps, s: Session, text: string, producer: string): Promise<CmdResult<{ tts_ms: number; session_id: string }>> {
  const generation = s.generation;
  let wav: Uint8Array;
  let ttsMs: number;
  try {
    const spoken = await deps.speak(text);
    wav = spoken.wav;
    ttsMs = ms1(spoken.ttsMs);
  } catch (e) {
    deps.logger?.error({ err: e, session_id: s.id }, 'inject synthesis failed');
    return { ok: false, reason: 'tts_failed', detail: `speech synthesis failed: ${(e as Error).message}` };
  }
  if (s.ended || s.generation !== generation) {
    return { ok: false, reason: 'session_ended', detail: `call ${s.id} ended while the text was being synthesised` };
  }
  s.injects.push({ text, wav, tts_ms: ttsMs, producer });
  deps.bus.publish('agent.inject', s.id, { text, audio_base64: Buffer.from(wav.buffer, wav.byteOffset, wav.byteLength).toString('base64'), tts_ms: ttsMs, producer });
  deps.calls.notify('callEvent', s.summaryView(), 'agent.inject', { text, producer, tts_ms: ttsMs });
  return { ok: true, tts_ms: ttsMs, session_id: s.id };
}
