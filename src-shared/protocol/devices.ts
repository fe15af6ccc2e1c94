/**
 * Wire shapes of the phone bridge's routes (`/api/devices…`): device summaries and details, health
 * checks and their fix actions, the phone's call state, logcat lines. Pure: the gateway builds them,
 * the console reads them.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'unknown' | 'skipped';

export const CHECK_IDS = [
  'device_state', 'boot', 'user_unlocked', 'app_installed', 'permissions', 'dialer_role', 'battery_unrestricted',
  'lock_screen', 'root', 'rootd', 'reverse', 'reachability', 'profile', 'test_audio', 'sim_network', 'battery',
  'call_state', 'ota',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

/** Setup/fix actions (each a console button and `POST /api/devices/:serial/actions/:action`). */
export const ACTION_IDS = [
  'recheck', 'create_reverse', 'install_apk', 'grant_permissions', 'set_dialer_role', 'battery_unrestricted',
  'launch_app', 'push_profile', 'verify_profile', 'start_rootd', 'remove_test_audio', 'disable_ota', 'diagnostics',
  'dial', 'hangup', 'answer', 'reject', 'mute', 'speaker',
] as const;
export type ActionId = (typeof ACTION_IDS)[number];

export interface HealthCheck {
  id: CheckId;
  title: string;
  status: CheckStatus;
  /** one line for a person */
  detail: string;
  /** the action that fixes it, when one exists */
  fix?: ActionId;
}

export interface DeviceFacts {
  model: string | null;
  codename: string | null;
  manufacturer: string | null;
  androidVersion: string | null;
  sdk: number | null;
  buildId: string | null;
  app: {
    installed: boolean;
    versionName: string | null;
    versionCode: string | null;
    debuggable: boolean | null;
    apkSha256: string | null;
    /** `build marker:` from the app's log, when seen */
    buildMarker: string | null;
  };
  /** su binary that gave uid=0, if any */
  su: string | null;
  battery: { level: number | null; charging: boolean | null; temperatureC: number | null } | null;
}

export type PhoneCallPhase = 'ringing' | 'dialing' | 'connecting' | 'active' | 'holding' | 'disconnecting';
export type PhoneCallDirection = 'incoming' | 'outgoing';

/** The phone's own call state, as the bridge follows it. */
export interface PhoneCall {
  serial: string;
  phase: PhoneCallPhase;
  /** normalised number ('+' and digits) if known */
  number: string | null;
  direction: PhoneCallDirection | null;
  /** what the app reported in its `call metadata:` line (cross-check for the turns' caller fields) */
  appReported: { number: string | null; direction: string | null } | null;
  startedAt: number;
  activeAt: number | null;
  /** false while the device is unplugged: the state is the last one seen */
  observed: boolean;
}

export interface DeviceSummary {
  serial: string;
  /** adb state: device | unauthorized | offline | no permissions | … */
  state: string;
  /** adb state explained for a person ('' when the state is fine) */
  stateDetail: string;
  model: string | null;
  codename: string | null;
  androidVersion: string | null;
  usb: string | null;
  /** reverse rule active + checks run */
  ready: boolean;
  reverseActive: boolean;
  /** worst check status (null before the first run) */
  health: CheckStatus | null;
  call: PhoneCall | null;
  connectedAt: number;
}

export interface DeviceDetail extends DeviceSummary {
  facts: DeviceFacts | null;
  checks: HealthCheck[];
  checkedAt: number | null;
  /** what automatic upkeep did on the last (re)connect */
  upkeep: { step: string; ok: boolean; detail: string }[];
}

export interface AdbStatus {
  ok: boolean;
  detail: string;
  host: string;
  port: number;
  version: number | null;
  binary: string | null;
}

/** `GET /api/devices` */
export interface DevicesResponse {
  adb: AdbStatus;
  devices: DeviceSummary[];
}

export const LOG_LEVELS = ['V', 'D', 'I', 'W', 'E', 'F'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogLine {
  /** device wall-clock time as logcat prints it: `MM-DD HH:MM:SS.mmm` */
  time: string;
  pid: number;
  tid: number;
  level: LogLevel;
  tag: string;
  message: string;
  /** host time the line arrived (ms since epoch) */
  receivedAt: number;
  /** per-device sequence number */
  seq: number;
}
