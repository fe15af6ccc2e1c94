/** Public types of the phone bridge: the wire shapes live in src-shared/protocol/devices (the console reads them too). */
export { ACTION_IDS, CHECK_IDS } from '../../src-shared/protocol/devices';
export type { ActionId, AdbStatus, CheckId, CheckStatus, DeviceDetail, DeviceFacts, DeviceSummary, DevicesResponse, HealthCheck } from '../../src-shared/protocol/devices';

export interface ActionResult {
  ok: boolean;
  detail: string;
  [extra: string]: unknown;
}

