/** Energy fallback: a frame is speech when its RMS reaches the configured level. */
import { rms } from '../../../src-shared/audio/wav';
import type { FrameClassifier } from './classifier';

export class EnergyClassifier implements FrameClassifier {
  readonly engine = 'energy' as const;
  constructor(private readonly threshold: number) {}

  async classify(frame: Int16Array): Promise<number> {
    return rms(frame) >= this.threshold ? 1 : 0;
  }

  reset(): void {}
}
