/** The USB phone bridge: public API for the composition root and the gateway. */
export { AdbPhoneBridge } from './bridge';
export type { PhoneBridgeConfig, PhoneBridgeOptions, PhoneBridgeEvents, DeviceAlert, CallCommandOptions } from './bridge';
export type { CallInfo, CallEnded, CallEndReason, CallDirection, CallPhase } from './call-tracker';
export type { ActionId, ActionResult, AdbStatus, CheckId, CheckStatus, DeviceDetail, DeviceFacts, DeviceSummary, HealthCheck } from './types';
export { ACTION_IDS, CHECK_IDS } from './types';
export type { LogFilter, LogLine } from './logcat';
export { generateBearer } from './profile';
export { NoPhoneBridge, type CallControl, type CallControlResult } from './call-control';
export { sessionEndReason } from './session-end';
