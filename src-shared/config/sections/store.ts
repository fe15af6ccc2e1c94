/** Call-history keys (ours). Owned by the store capability. */
import { z } from 'zod';

export const storeKeys = {
  /** Keep each turn's caller and reply audio next to the call history. */
  record_audio: z.boolean().default(true),
};
