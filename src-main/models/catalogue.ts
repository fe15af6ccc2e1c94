/**
 * The models the app offers to download. Whisper and Qwen files are pinned by exact size and SHA-256
 * (the checksum is verified before a file is used). The Piper voices' publisher lists no SHA-256, so
 * those entries carry none: they are checked by their JSON config parsing and marked `verified: 'none'`.
 */
import type { ModelKind } from '../../src-shared/protocol/models';

export type { ModelKind };

export interface ModelFileSpec {
  /** file name inside the models folder (no path separators) */
  name: string;
  url: string;
  /** exact size in bytes, when pinned */
  bytes?: number;
  /** lower-case hex SHA-256, when pinned */
  sha256?: string;
  /** size estimate for the disk-space check when `bytes` is not pinned */
  approxBytes?: number;
}

export interface CatalogueEntry {
  id: string;
  kind: ModelKind;
  title: string;
  description: string;
  license: string;
  /** languages it handles ('*' = many) */
  languages: string[];
  files: ModelFileSpec[];
  /** resident memory needed to run it, MB (rough) */
  memoryMb: number;
}

const WHISPER = 'https://huggingface.co/ggerganov/whisper.cpp/resolve/main';
const PIPER = 'https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0';

function piper(id: string, lang: string, path: string, title: string, approxMb: number): CatalogueEntry {
  return {
    id: `piper-${id}`,
    kind: 'piper',
    title,
    description: `Piper neural voice ${id} (VITS, ONNX).`,
    license: 'see the voice\'s MODEL_CARD (mostly CC-BY-4.0 / CC0 / MIT)',
    languages: [lang],
    files: [
      { name: `${id}.onnx`, url: `${PIPER}/${path}/${id}.onnx`, approxBytes: approxMb * 1_000_000 },
      { name: `${id}.onnx.json`, url: `${PIPER}/${path}/${id}.onnx.json`, approxBytes: 10_000 },
    ],
    memoryMb: approxMb * 2,
  };
}

export const CATALOGUE: CatalogueEntry[] = [
  {
    id: 'whisper-tiny.en', kind: 'whisper', title: 'Whisper tiny (English)', license: 'MIT', languages: ['en'], memoryMb: 200,
    description: 'Fastest speech recognition; fine for clear phone audio on slow machines.',
    files: [{ name: 'ggml-tiny.en.bin', url: `${WHISPER}/ggml-tiny.en.bin`, bytes: 77_704_715, sha256: '921e4cf8686fdd993dcd081a5da5b6c365bfde1162e72b08d75ac75289920b1f' }],
  },
  {
    id: 'whisper-base.en', kind: 'whisper', title: 'Whisper base (English)', license: 'MIT', languages: ['en'], memoryMb: 300,
    description: 'Balanced speed and accuracy; the default for most machines.',
    files: [{ name: 'ggml-base.en.bin', url: `${WHISPER}/ggml-base.en.bin`, bytes: 147_964_211, sha256: 'a03779c86df3323075f5e796cb2ce5029f00ec8869eee3fdfb897afe36c6d002' }],
  },
  {
    id: 'whisper-small.en', kind: 'whisper', title: 'Whisper small (English)', license: 'MIT', languages: ['en'], memoryMb: 800,
    description: 'More accurate, about 3× slower than base; for machines with 8+ cores.',
    files: [{ name: 'ggml-small.en.bin', url: `${WHISPER}/ggml-small.en.bin`, bytes: 487_614_201, sha256: 'c6138d6d58ecc8322097e0f987c32f1be8bb0a18532a3f88f734d1bbf9c41e5d' }],
  },
  {
    id: 'qwen2.5-0.5b-instruct', kind: 'llm', title: 'Qwen2.5 0.5B Instruct (Q8_0)', license: 'Apache-2.0', languages: ['*'], memoryMb: 1000,
    description: 'Small and quick chat model; short, simple answers.',
    files: [{ name: 'qwen2.5-0.5b-instruct-q8_0.gguf', url: 'https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q8_0.gguf', bytes: 675_710_816, sha256: 'ca59ca7f13d0e15a8cfa77bd17e65d24f6844b554a7b6c12e07a5f89ff76844e' }],
  },
  {
    id: 'qwen2.5-1.5b-instruct', kind: 'llm', title: 'Qwen2.5 1.5B Instruct (Q4_K_M)', license: 'Apache-2.0', languages: ['*'], memoryMb: 2000,
    description: 'Better answers, about 2–3× slower than 0.5B; for 4+ cores and 8 GB of memory.',
    files: [{ name: 'qwen2.5-1.5b-instruct-q4_k_m.gguf', url: 'https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct-GGUF/resolve/main/qwen2.5-1.5b-instruct-q4_k_m.gguf', bytes: 1_117_320_736, sha256: '6a1a2eb6d15622bf3c96857206351ba97e1af16c30d7a74ee38970e434e9407e' }],
  },
  piper('en_US-amy-low', 'en', 'en/en_US/amy/low', 'Piper Amy (US English, female, low)', 63),
  piper('en_US-lessac-medium', 'en', 'en/en_US/lessac/medium', 'Piper Lessac (US English, male, medium)', 63),
  piper('en_GB-alba-medium', 'en', 'en/en_GB/alba/medium', 'Piper Alba (British English, female, medium)', 63),
  // the German voices upstream offers (spec §10.6); `piper_voice: "thorsten-high"` selects piper-de_DE-thorsten-high
  piper('de_DE-thorsten-medium', 'de', 'de/de_DE/thorsten/medium', 'Piper Thorsten (German, male, medium)', 63),
  piper('de_DE-thorsten-high', 'de', 'de/de_DE/thorsten/high', 'Piper Thorsten (German, male, high)', 114),
  piper('de_DE-thorsten-low', 'de', 'de/de_DE/thorsten/low', 'Piper Thorsten (German, male, low)', 63),
  piper('de_DE-karlsson-low', 'de', 'de/de_DE/karlsson/low', 'Piper Karlsson (German, male, low)', 63),
  piper('de_DE-pavoque-low', 'de', 'de/de_DE/pavoque/low', 'Piper Pavoque (German, male, low)', 63),
  piper('de_DE-eva_k-x_low', 'de', 'de/de_DE/eva_k/x_low', 'Piper Eva K (German, female, x-low)', 21),
  piper('de_DE-kerstin-low', 'de', 'de/de_DE/kerstin/low', 'Piper Kerstin (German, female, low)', 63),
  piper('de_DE-ramona-low', 'de', 'de/de_DE/ramona/low', 'Piper Ramona (German, female, low)', 63),
  piper('de_DE-thorsten_emotional-medium', 'de', 'de/de_DE/thorsten_emotional/medium', 'Piper Thorsten emotional (German, 8 emotions as speakers)', 77),
];

export function findEntry(id: string, catalogue: CatalogueEntry[] = CATALOGUE): CatalogueEntry | undefined {
  return catalogue.find((e) => e.id === id);
}

export function entryBytes(e: CatalogueEntry): number {
  return e.files.reduce((n, f) => n + (f.bytes ?? f.approxBytes ?? 0), 0);
}

export interface MachineInfo { cores: number; memoryMb: number; lang?: string }

/** Which entry of each kind suits this machine (cores, memory, language). */
export function recommend(m: MachineInfo, catalogue: CatalogueEntry[] = CATALOGUE): Record<ModelKind, string | undefined> {
  const pick = (ids: string[]) => ids.find((id) => catalogue.some((e) => e.id === id));
  const whisper = m.cores >= 8 && m.memoryMb >= 8000 ? 'whisper-small.en' : m.cores >= 2 ? 'whisper-base.en' : 'whisper-tiny.en';
  const llm = m.cores >= 4 && m.memoryMb >= 8000 ? 'qwen2.5-1.5b-instruct' : 'qwen2.5-0.5b-instruct';
  const piperId = (m.lang ?? 'en').toLowerCase().startsWith('de') ? 'piper-de_DE-thorsten-medium' : 'piper-en_US-lessac-medium';
  return { whisper: pick([whisper, 'whisper-base.en']), llm: pick([llm]), piper: pick([piperId]) };
}
