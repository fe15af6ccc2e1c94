/** ADB phone-bridge keys (ours). Owned by the phone capability. */
import { z } from 'zod';

export const phoneKeys = {
  /** adb server host/port; empty/0 = adb's own default (ANDROID_ADB_SERVER_PORT or 5037). */
  adb_host: z.string().default('127.0.0.1'),
  adb_port: z.number().int().min(0).max(65535).default(0),
  /** Serial of the phone to use when several are connected; empty = the only one. */
  adb_serial: z.string().default(''),
};
