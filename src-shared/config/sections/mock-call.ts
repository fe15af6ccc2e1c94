/** Mock-call keys (ours). Owned by the mock-call capability. */
import { z } from 'zod';

export const mockCallKeys = {
  mock_barge_in: z.boolean().default(false),
};
