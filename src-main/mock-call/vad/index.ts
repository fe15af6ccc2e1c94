/** VAD selection with fallback: Silero when its model loads, energy otherwise. */
import { EnergyClassifier } from './energy';
import { SileroClassifier } from './silero';
import type { FrameClassifier, VadEngine } from './classifier';

export * from './classifier';
export { EnergyClassifier } from './energy';
export { SileroClassifier, defaultSileroModelPath, loadSileroModel } from './silero';

export interface VadChoice {
  engine: VadEngine;
  energyThreshold: number;
  /** override the Silero model file (tests) */
  modelPath?: string;
}

export async function createClassifier(choice: VadChoice): Promise<{ classifier: FrameClassifier; warning: string | null }> {
  if (choice.engine === 'silero') {
    try {
      return { classifier: await SileroClassifier.create(choice.modelPath), warning: null };
    } catch (e) {
      return {
        classifier: new EnergyClassifier(choice.energyThreshold),
        warning: `Silero VAD unavailable (${(e as Error).message}); using the energy threshold instead`,
      };
    }
  }
  return { classifier: new EnergyClassifier(choice.energyThreshold), warning: null };
}
