/**
 * The app's runtime profile (phone spec §5): built-in templates for the two known phones, the
 * validation the app applies (§5.4, so we never push a profile that turns calls into dead air), and
 * the comparison with the running gateway.
 */
import { createHash, randomBytes } from 'node:crypto';

export type Profile = Record<string, unknown> & { gateway?: Record<string, unknown> };

const TINY = '/data/adb/service.d/phonebridge-tinymix -D 0 set';

function routes(set: [number, string][], restore: [number, string][]) {
  return { set: set.map(([c, v]) => `${TINY} ${c} ${v}`), restore: restore.map(([c, v]) => `${TINY} ${c} ${v}`) };
}

const range = (from: number, to: number, v: string): [number, string][] => Array.from({ length: to - from + 1 }, (_, i) => [from + i, v]);

/** Route lists of the shipped profiles (§5.1), per device codename. */
const ROUTES: Record<string, { profileId: string; route: { set: string[]; restore: string[] } }> = {
  blazer: {
    profileId: 'pixel10pro_blazer_v1',
    route: routes(
      [[116, 'IN_CALL_MUSIC'], [117, '1'], ...range(120, 123, 'DL'), [124, '1'], [125, '1'], [135, '1'], [136, '1']],
      [[116, 'Builtin_MIC'], [117, '0'], ...range(120, 123, 'Off'), [124, '0'], [125, '0'], [135, '0'], [136, '0']],
    ),
  },
  lynx: {
    profileId: 'pixel7a_lynx_v1',
    route: routes(
      [[148, 'IN_CALL_MUSIC'], [150, '1'], ...range(152, 155, 'DL'), [156, '1'], [157, '1'], [167, '0'], [168, '0']],
      [[148, 'Builtin_MIC'], [150, '0'], ...range(152, 155, 'Off'), [156, '0'], [157, '0'], [167, '0'], [168, '0']],
    ),
  },
};

export const KNOWN_CODENAMES = Object.keys(ROUTES);

/** A random per-install bearer token (URL-safe, 43 chars). */
export function generateBearer(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The shipped profile for a known phone with our gateway URL and bearer. `root_binaries.su` is the
 * runbook value for both phones (the 7a's shipped `/data/local/tmp/su` contradicts its runbook, §8.22).
 */
export function templateProfile(codename: string, baseUrl: string, bearer: string): Profile | null {
  const known = ROUTES[codename];
  if (!known) return null;
  return {
    profile_id: known.profileId,
    gateway: { base_url: baseUrl, bearer },
    root_binaries: {
      su: '/data/adb/ap/bin/su',
      tinycap: '/data/adb/service.d/phonebridge-tinycap',
      tinyplay: '/data/adb/service.d/phonebridge-tinyplay',
      tinymix: '/data/adb/service.d/phonebridge-tinymix',
    },
    route_profile: known.route,
    playback: {
      candidate_order_in_app: [18, 19, 29],
      tuning: { persistent_session: false, lock_device_for_call: true, prebuffer_ms: 220, period_size: 1024, period_count: 8, mmap: false },
      endpoint_settings: { '29': { sample_rate: 48000, channels: 2, speed_compensation: 1.5 }, '18': {}, '19': {} },
    },
    capture: {
      candidate_order_in_app: [20, 21],
      endpoint_settings: {
        '20': { request_sample_rate: 48000, request_channels: 1, effective_sample_rate: 24000 },
        '21': { request_sample_rate: 48000, request_channels: 1, effective_sample_rate: 24000 },
      },
      tuning: { strict_stream_only: false, gain_db: 6.0 },
    },
    call_session: { session_log: false, gateway_report: false },
    beep: { mode: 'embedded_tail', every_turn: true },
    logging: { debug_wav_dump: { enabled: false, max_files: 180 }, audit: { level: 'off', transcripts_enabled: false, debug_wav_events_enabled: false } },
    policy: {
      no_unvalidated_endpoint_fallback: true,
      fail_fast_if_no_profile_match: false,
      route_recover_on_no_audio: true,
      route_recover_min_no_audio_streak: 2,
      route_recover_throttle_ms: 1200,
    },
  };
}

/** Replace the gateway section of an existing profile (keeps the phone's audio tuning). */
export function withGateway(profile: Profile, baseUrl: string, bearer: string): Profile {
  const gw = { ...((profile.gateway as Record<string, unknown>) ?? {}) };
  delete gw.baseUrl;
  delete gw.api_key;
  return { ...profile, gateway: { ...gw, base_url: baseUrl, bearer } };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}

export function profileGateway(p: Profile): { baseUrl: string; bearer: string } {
  const gw = isObject(p.gateway) ? p.gateway : {};
  return { baseUrl: str(gw.base_url) || str(gw.baseUrl), bearer: str(gw.bearer) || str(gw.api_key) };
}

function candidateList(section: unknown): number[] {
  if (!isObject(section)) return [];
  const order = Array.isArray(section.candidate_order_in_app) ? section.candidate_order_in_app : null;
  if (order) return order.filter((n): n is number => Number.isInteger(n) && (n as number) > 0);
  const keys = isObject(section.endpoint_settings) ? Object.keys(section.endpoint_settings) : [];
  return keys.map(Number).filter((n) => Number.isInteger(n) && n > 0);
}

/** The app's own rules (§5.4); problems in words. Absent sections fall back to the app's defaults. */
export function validateProfile(raw: unknown): { ok: true; profile: Profile } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  if (!isObject(raw)) return { ok: false, problems: ['the profile is not a JSON object'] };
  const p = raw as Profile;
  if (!isObject(p.gateway)) problems.push('the "gateway" section is missing');
  else {
    const { baseUrl, bearer } = profileGateway(p);
    if (!baseUrl) problems.push('gateway.base_url is blank');
    else if (!/^https?:\/\/[^\s/]+(:\d+)?\/?$/.test(baseUrl)) problems.push('gateway.base_url is not a plain http://host:port URL');
    if (!bearer) problems.push('gateway.bearer is blank');
  }
  for (const key of ['playback', 'capture'] as const) {
    const section = p[key];
    if (section === undefined) continue;
    if (!isObject(section)) {
      problems.push(`"${key}" is not an object`);
      continue;
    }
    const es = section.endpoint_settings;
    if (es !== undefined) {
      if (!isObject(es)) problems.push(`${key}.endpoint_settings is not an object`);
      else for (const k of Object.keys(es)) if (!/^[1-9]\d*$/.test(k)) problems.push(`${key}.endpoint_settings key "${k}" is not a positive integer`);
    }
    if ((section.candidate_order_in_app !== undefined || es !== undefined) && candidateList(section).length === 0) {
      problems.push(`${key} has no usable device numbers`);
    }
  }
  return problems.length ? { ok: false, problems } : { ok: true, profile: p };
}

export function profileBytes(p: Profile): Buffer {
  return Buffer.from(JSON.stringify(p, null, 2) + '\n', 'utf8');
}

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

export function normaliseBaseUrl(u: string): string {
  return u.trim().replace(/\/+$/, '');
}
