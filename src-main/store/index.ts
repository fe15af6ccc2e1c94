export { CallStore, DEFAULT_SEARCH_CAP, DEFAULT_STORE_SETTINGS, outcomeOf, type CallStoreOptions } from './call-store';
export { StoreOpenError } from './database';
export { StoreLockedError } from './lock';
export { SCHEMA_VERSION, StoreVersionError } from './migrations';
export { StoreQueryError } from './query';
export { importUpstream, ImportError, type ImportReport } from './import-upstream';
export { callAsText } from './export';
export * from './types';
