/** Fixed names of the Clawfinger phone app and its device-side files (phone spec §4–§7). */

export const PKG = 'com.tracsystems.phonebridge';
export const CALL_COMMAND_ACTION = `${PKG}.CALL_COMMAND`;
export const CALL_COMMAND_RECEIVER = `${PKG}/.CallCommandReceiver`;
export const MAIN_ACTIVITY = `${PKG}/.MainActivity`;
export const DIALER_ROLE = 'android.app.role.DIALER';

export const APP_TAGS = [
  'GatewayCallAssistant',
  'BridgeInCallService',
  'AndroidTelecomCtrl',
  'CallCommandExecutor',
  'CallCommandReceiver',
  'AndroidRuntime',
] as const;
export type AppTag = (typeof APP_TAGS)[number];

/** Runtime permissions the app needs; POST_NOTIFICATIONS exists from Android 13 (SDK 33). */
export const RUNTIME_PERMISSIONS = [
  'android.permission.CALL_PHONE',
  'android.permission.ANSWER_PHONE_CALLS',
  'android.permission.READ_PHONE_STATE',
  'android.permission.RECORD_AUDIO',
  'android.permission.POST_NOTIFICATIONS',
] as const;

export const EXTERNAL_PROFILE_DIR = `/sdcard/Android/data/${PKG}/files/profiles`;
export const EXTERNAL_PROFILE = `${EXTERNAL_PROFILE_DIR}/profile.json`;
/** Relative to the app's files dir, used through `run-as`. */
export const INTERNAL_PROFILE = 'files/profiles/profile.json';
export const INTERNAL_ACTIVE_PROFILE = 'files/profiles/active-profile.json';
export const TEST_INJECT_DIR = 'files/test-inject';

export const ROOTD_PORT = 48733;
export const ROOTD_SCRIPT = '/data/adb/service.d/phonebridge-rootd.sh';
/** su binaries tried in order (APatch, Magisk ramdisk, Magisk wrapper, PATH). */
export const SU_CANDIDATES = ['/data/adb/ap/bin/su', '/debug_ramdisk/su', '/data/local/tmp/su', 'su'] as const;

/** Fixed remote name for APK installs: never derived from the user's file name. */
export const REMOTE_APK = '/data/local/tmp/clawfinger-install.apk';
