/** ADB phone-bridge keys (ours). Owned by the phone capability. */
import { z } from 'zod';

export const phoneKeys = {
  /**
   * adb server host/port; empty/0 = adb's own default (the host and port of ADB_SERVER_SOCKET, the
   * port of ANDROID_ADB_SERVER_PORT, else 127.0.0.1:5037). Changing them restarts the phone bridge.
   */
  adb_host: z.string().max(255).default(''),
  adb_port: z.number().int().min(0).max(65535).default(0),
  /** Serial of the phone to use when several are connected; empty = ANDROID_SERIAL, else the only one. */
  adb_serial: z.string().default(''),
  /** Port of `adb reverse tcp:P tcp:P` (the phone reaches the gateway through it); 0 = the gateway `port`. */
  adb_reverse_port: z.number().int().min(0).max(65535).default(0),
  /** How long a call command (dial, hangup, …) waits for the phone to confirm it. */
  adb_confirm_timeout_ms: z.number().int().min(500).max(120_000).default(8000),
  /** Time limit of one adb shell command (checks, setup steps). */
  adb_command_timeout_ms: z.number().int().min(1000).max(600_000).default(15_000),
  /** On every (re)connect: re-create the reverse port, restore the dialer role, start rootd (phone spec §4.5). */
  adb_auto_upkeep: z.boolean().default(true),
  /** While a call is live, also read the telephony call state and the reverse rule this often (0 = off). */
  adb_call_poll_ms: z.number().int().min(0).max(600_000).default(3000),
  /** Start the adb server (`adb start-server`) when none is running on a loopback address. */
  adb_start_server: z.boolean().default(true),
};
