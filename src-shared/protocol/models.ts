/** Wire shapes of the model manager's routes (`/api/models…`) and its `model.download` events. Pure. */

export type ModelKind = 'whisper' | 'llm' | 'piper';

export type DownloadStatus = 'queued' | 'downloading' | 'verifying' | 'done' | 'error' | 'cancelled';

/** A download's progress (also the data of `model.download` events). */
export interface DownloadState {
  id: string;
  status: DownloadStatus;
  file?: string;
  bytes: number;
  total: number | null;
  rate_bps: number;
  eta_sec: number | null;
  error?: string;
}

export interface ModelEntry {
  id: string;
  kind: ModelKind;
  title: string;
  description: string;
  license: string;
  languages: string[];
  bytes: number;
  memory_mb: number;
  files: { name: string; url: string; bytes: number | null; sha256: string | null }[];
  installed: boolean;
  /** 'sha256' checked, 'pending' installed but not yet checked, 'none' nothing to check against, 'no' not installed */
  verified: 'sha256' | 'pending' | 'none' | 'no';
  partial_bytes: number;
  recommended: boolean;
  download: DownloadState | null;
}

export interface ImportedModel {
  id: string;
  kind: ModelKind;
  path: string;
  name: string;
  bytes: number;
}

/** `GET /api/models` */
export interface ModelsResponse {
  dir: string;
  machine: { cores: number; memory_mb: number };
  recommendations: Partial<Record<ModelKind, string>>;
  disk: { free_bytes: number | null; total_bytes: number | null; used_by_models_bytes: number };
  models: ModelEntry[];
  imported: ImportedModel[];
}
