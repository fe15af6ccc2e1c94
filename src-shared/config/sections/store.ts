/** Call-history keys (ours). Owned by the store capability. */
import { z } from 'zod';
import { COUNTRY_CODE } from '../../text/phone-number';

export const storeKeys = {
  /** Keep each turn's caller and reply audio next to the call history. */
  record_audio: z.boolean().default(true),
  /** Delete recordings not used by any turn for this many days; 0 = keep regardless of age. */
  recording_max_age_days: z.number().min(0).max(36_500).default(30),
  /** Delete the least recently used recordings once they take more than this many MB; 0 = no limit. */
  recording_max_disk_mb: z.number().min(0).max(10_000_000).default(2048),
  /**
   * Country calling code of the phone's country (e.g. '49'): caller memory keys national numbers
   * (0170…) in E.164 form (+49170…) so a caller is recognised however the number is written.
   * '' = national numbers are kept as written (the 00 prefix still becomes '+').
   */
  caller_country_code: z.string().regex(COUNTRY_CODE, '1 to 3 digits, e.g. 49 (or empty)').default(''),
};
