/**
 * The legacy ggml whisper model format (what whisper.cpp's `ggml-*.bin` files are): the tensors whisper.cpp
 * expects for a set of hyper-parameters, and a validator that walks a file the way whisper.cpp's loader
 * does. whisper.cpp (through smart-whisper) can crash the process on a file it rejects, so every file is
 * checked here first and a bad one becomes an error that names the file and the problem.
 */
import { open } from 'node:fs/promises';

export const GGML_MAGIC = 0x67676d6c; // "ggml" read as a little-endian uint32

export interface WhisperHparams {
  n_vocab: number;
  n_audio_ctx: number;
  n_audio_state: number;
  n_audio_head: number;
  n_audio_layer: number;
  n_text_ctx: number;
  n_text_state: number;
  n_text_head: number;
  n_text_layer: number;
  n_mels: number;
  /** ggml ftype (1 = mostly F16) */
  ftype: number;
}

export const HPARAM_ORDER: (keyof WhisperHparams)[] = [
  'n_vocab', 'n_audio_ctx', 'n_audio_state', 'n_audio_head', 'n_audio_layer',
  'n_text_ctx', 'n_text_state', 'n_text_head', 'n_text_layer', 'n_mels', 'ftype',
];

/** ggml tensor types: id → [bytes per block, elements per block]. */
export const GGML_TYPES: Record<number, { name: string; size: number; block: number }> = {
  0: { name: 'F32', size: 4, block: 1 },
  1: { name: 'F16', size: 2, block: 1 },
  2: { name: 'Q4_0', size: 18, block: 32 },
  3: { name: 'Q4_1', size: 20, block: 32 },
  6: { name: 'Q5_0', size: 22, block: 32 },
  7: { name: 'Q5_1', size: 24, block: 32 },
  8: { name: 'Q8_0', size: 34, block: 32 },
  10: { name: 'Q2_K', size: 84, block: 256 },
  11: { name: 'Q3_K', size: 110, block: 256 },
  12: { name: 'Q4_K', size: 144, block: 256 },
  13: { name: 'Q5_K', size: 176, block: 256 },
  14: { name: 'Q6_K', size: 210, block: 256 },
  30: { name: 'BF16', size: 2, block: 1 },
};

/** ggml ftype → the type of the big matrices. */
const FTYPE_TO_TYPE: Record<number, number> = { 0: 0, 1: 1, 2: 2, 3: 3, 7: 8, 8: 6, 9: 7, 10: 10, 11: 11, 12: 12, 13: 13, 14: 14, 24: 30 };

export function weightType(ftype: number): number | undefined {
  return FTYPE_TO_TYPE[ftype % 1000];
}

export interface TensorSpec { name: string; ne: number[]; type: number }

/** Every tensor whisper.cpp creates for these hyper-parameters (names, ggml shapes, types). */
export function whisperTensorSpecs(h: WhisperHparams): TensorSpec[] {
  const w = weightType(h.ftype);
  if (w === undefined) throw new Error(`unsupported ftype ${h.ftype}`);
  const v = w === 0 ? 0 : 1; // convolutions: F32 in an F32 model, else F16
  const F = 0;
  const a = h.n_audio_state;
  const t = h.n_text_state;
  const out: TensorSpec[] = [
    { name: 'encoder.positional_embedding', ne: [a, h.n_audio_ctx], type: F },
    { name: 'encoder.conv1.weight', ne: [3, h.n_mels, a], type: v },
    { name: 'encoder.conv1.bias', ne: [1, a], type: F },
    { name: 'encoder.conv2.weight', ne: [3, a, a], type: v },
    { name: 'encoder.conv2.bias', ne: [1, a], type: F },
    { name: 'encoder.ln_post.weight', ne: [a], type: F },
    { name: 'encoder.ln_post.bias', ne: [a], type: F },
  ];
  const block = (prefix: string, s: number, cross: boolean) => {
    const attn = (p: string) => [
      { name: `${p}.query.weight`, ne: [s, s], type: w },
      { name: `${p}.query.bias`, ne: [s], type: F },
      { name: `${p}.key.weight`, ne: [s, s], type: w },
      { name: `${p}.value.weight`, ne: [s, s], type: w },
      { name: `${p}.value.bias`, ne: [s], type: F },
      { name: `${p}.out.weight`, ne: [s, s], type: w },
      { name: `${p}.out.bias`, ne: [s], type: F },
    ];
    out.push(
      { name: `${prefix}.mlp_ln.weight`, ne: [s], type: F },
      { name: `${prefix}.mlp_ln.bias`, ne: [s], type: F },
      { name: `${prefix}.mlp.0.weight`, ne: [s, 4 * s], type: w },
      { name: `${prefix}.mlp.0.bias`, ne: [4 * s], type: F },
      { name: `${prefix}.mlp.2.weight`, ne: [4 * s, s], type: w },
      { name: `${prefix}.mlp.2.bias`, ne: [s], type: F },
      { name: `${prefix}.attn_ln.weight`, ne: [s], type: F },
      { name: `${prefix}.attn_ln.bias`, ne: [s], type: F },
      ...attn(`${prefix}.attn`),
    );
    if (cross) {
      out.push(
        { name: `${prefix}.cross_attn_ln.weight`, ne: [s], type: F },
        { name: `${prefix}.cross_attn_ln.bias`, ne: [s], type: F },
        ...attn(`${prefix}.cross_attn`),
      );
    }
  };
  for (let i = 0; i < h.n_audio_layer; i++) block(`encoder.blocks.${i}`, a, false);
  out.push(
    { name: 'decoder.positional_embedding', ne: [t, h.n_text_ctx], type: F },
    { name: 'decoder.token_embedding.weight', ne: [t, h.n_vocab], type: w },
    { name: 'decoder.ln.weight', ne: [t], type: F },
    { name: 'decoder.ln.bias', ne: [t], type: F },
  );
  for (let i = 0; i < h.n_text_layer; i++) block(`decoder.blocks.${i}`, t, true);
  return out;
}

export function tensorBytes(ne: number[], type: number): number {
  const info = GGML_TYPES[type];
  if (!info) throw new Error(`unknown ggml type ${type}`);
  const n = ne.reduce((x, y) => x * y, 1);
  return (n / info.block) * info.size;
}

export class ModelFileError extends Error {
  constructor(readonly file: string, problem: string) {
    super(`model file ${file}: ${problem}`);
    this.name = 'ModelFileError';
  }
}

export interface WhisperModelInfo {
  hparams: WhisperHparams;
  multilingual: boolean;
  /** 'tiny' | 'base' | 'small' | 'medium' | 'large' | 'custom' by encoder depth */
  size: string;
  weightType: string;
  tensors: number;
  bytes: number;
}

const SIZE_BY_LAYERS: Record<number, string> = { 4: 'tiny', 6: 'base', 12: 'small', 24: 'medium', 32: 'large' };

/** Walk a whisper ggml file like whisper.cpp's loader does; throws ModelFileError naming what is wrong. */
export async function inspectWhisperModel(file: string): Promise<WhisperModelInfo> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelFileError(file, code === 'ENOENT' ? 'not found' : `cannot be opened (${code ?? (e as Error).message})`);
  }
  try {
    const size = (await fh.stat()).size;
    let pos = 0;
    const read = async (n: number, what: string): Promise<Buffer> => {
      if (pos + n > size) throw new ModelFileError(file, `truncated: ${what} runs past the end of the file (${size} bytes)`);
      const b = Buffer.alloc(n);
      await fh.read(b, 0, n, pos);
      pos += n;
      return b;
    };
    const head = await read(4 + 4 * HPARAM_ORDER.length, 'the header');
    if (head.readUInt32LE(0) !== GGML_MAGIC) {
      const m = head.subarray(0, 4).toString('latin1');
      const hint = m === 'GGUF' ? ' (this is a GGUF file — an LLM model, or a newer format whisper.cpp here cannot read)' : '';
      throw new ModelFileError(file, `not a whisper ggml model (bad magic)${hint}`);
    }
    const hparams = {} as WhisperHparams;
    HPARAM_ORDER.forEach((k, i) => { hparams[k] = head.readInt32LE(4 + 4 * i); });
    const bad = HPARAM_ORDER.filter((k) => k !== 'ftype' && !(hparams[k] > 0 && hparams[k] < 1_000_000));
    if (bad.length) throw new ModelFileError(file, `implausible hyper-parameters (${bad.map((k) => `${k}=${hparams[k]}`).join(', ')})`);
    if (hparams.n_audio_state !== hparams.n_text_state) throw new ModelFileError(file, 'audio and text widths differ');
    if (hparams.n_audio_state % hparams.n_audio_head || hparams.n_text_state % hparams.n_text_head) throw new ModelFileError(file, 'width is not a multiple of the head count');
    const wtype = weightType(hparams.ftype);
    if (wtype === undefined) throw new ModelFileError(file, `unsupported weight type (ftype ${hparams.ftype})`);

    const mel = await read(8, 'the mel filters');
    const nMel = mel.readInt32LE(0);
    const nFft = mel.readInt32LE(4);
    if (nMel <= 0 || nFft <= 0 || nMel * nFft > 10_000_000) throw new ModelFileError(file, 'implausible mel filter size');
    pos += nMel * nFft * 4;

    const nv = (await read(4, 'the vocabulary')).readInt32LE(0);
    if (nv < 0 || nv > 1_000_000) throw new ModelFileError(file, `implausible vocabulary size ${nv}`);
    // whisper.cpp indexes the special tokens at fixed ids; the hparam must reach past them
    if (hparams.n_vocab < 51864) throw new ModelFileError(file, `vocabulary of ${hparams.n_vocab} tokens is smaller than whisper's 51864`);
    const chunk = 1 << 16;
    for (let i = 0; i < nv; i++) {
      const len = (await read(4, `vocabulary entry ${i}`)).readUInt32LE(0);
      if (len > chunk) throw new ModelFileError(file, `vocabulary entry ${i} is ${len} bytes long`);
      pos += len;
    }
    if (pos > size) throw new ModelFileError(file, 'truncated inside the vocabulary');

    const expected = new Map(whisperTensorSpecs(hparams).map((s) => [s.name, s]));
    const seen = new Set<string>();
    while (pos < size) {
      const th = await read(12, `tensor header #${seen.size + 1}`);
      const nDims = th.readInt32LE(0);
      const nameLen = th.readInt32LE(4);
      const ttype = th.readInt32LE(8);
      if (nDims < 1 || nDims > 4 || nameLen <= 0 || nameLen > 256) throw new ModelFileError(file, `corrupt tensor header #${seen.size + 1}`);
      const dimsBuf = await read(4 * nDims, 'a tensor shape');
      const ne = Array.from({ length: nDims }, (_, i) => dimsBuf.readInt32LE(4 * i));
      const name = (await read(nameLen, 'a tensor name')).toString('utf8');
      const spec = expected.get(name);
      if (!spec) throw new ModelFileError(file, `unknown tensor '${name}'`);
      if (seen.has(name)) throw new ModelFileError(file, `tensor '${name}' appears twice`);
      const want = [...spec.ne, 1, 1, 1].slice(0, 3);
      const got = [...ne, 1, 1, 1].slice(0, 3);
      if (want.some((x, i) => x !== got[i])) throw new ModelFileError(file, `tensor '${name}' has shape [${got}] but [${want}] is expected`);
      const tinfo = GGML_TYPES[ttype];
      if (!tinfo) throw new ModelFileError(file, `tensor '${name}' has unknown type ${ttype}`);
      const nbytes = tensorBytes(spec.ne, spec.type);
      const n = spec.ne.reduce((x, y) => x * y, 1);
      if ((n * tinfo.size) / GGML_TYPES[spec.type].block !== nbytes) throw new ModelFileError(file, `tensor '${name}' has type ${tinfo.name} but ${GGML_TYPES[spec.type].name} is expected`);
      if (pos + nbytes > size) throw new ModelFileError(file, `truncated: tensor '${name}' runs past the end of the file`);
      pos += nbytes;
      seen.add(name);
    }
    if (seen.size !== expected.size) {
      const missing = [...expected.keys()].filter((k) => !seen.has(k));
      throw new ModelFileError(file, `${missing.length} tensor(s) missing, e.g. '${missing[0]}'`);
    }
    return {
      hparams,
      multilingual: hparams.n_vocab >= 51865,
      size: SIZE_BY_LAYERS[hparams.n_audio_layer] ?? 'custom',
      weightType: GGML_TYPES[wtype].name,
      tensors: seen.size,
      bytes: size,
    };
  } finally {
    await fh.close();
  }
}
