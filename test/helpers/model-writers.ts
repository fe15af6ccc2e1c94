/**
 * Writers of random-weight model files in the real formats, so the real loaders (whisper.cpp through
 * smart-whisper, llama.cpp through node-llama-cpp) load and run them in tests and benchmarks:
 * - a legacy-ggml whisper file (magic, hparams, mel filters, vocabulary, every tensor whisper.cpp expects);
 * - a GGUF v3 file of a llama-family chat model (metadata, an SPM vocabulary with byte tokens and ChatML
 *   control tokens, a chat template, every tensor llama.cpp expects).
 * Output is gibberish; with real dimensions the compute cost equals the real model's.
 */
import { open, writeFile, type FileHandle } from 'node:fs/promises';
import { GGML_MAGIC, HPARAM_ORDER, tensorBytes, whisperTensorSpecs, type WhisperHparams } from '../../src-main/engines/embedded/whisper-format';

// ---------- random data -------------------------------------------------------------------------

/** Small deterministic PRNG (mulberry32) so files are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function f32ToF16(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp <= 0) return sign; // flush tiny values to zero
  if (exp >= 31) return sign | 0x7bff; // clamp to the largest finite half
  return sign | (exp << 10) | (mant >>> 13);
}

const POOL_BYTES = 1 << 20;
type Kind = 'f32' | 'f16' | 'q8_0' | 'ones';

/** 1 MiB pools of valid random values per type; tensors are filled by cycling through them. */
function makePools(seed: number, scale: number): Record<Kind, Buffer> {
  const r = rng(seed);
  const gauss = () => (r() + r() + r() - 1.5) * 2 * scale; // ~N(0, scale)
  const f32 = Buffer.alloc(POOL_BYTES);
  for (let i = 0; i < POOL_BYTES / 4; i++) f32.writeFloatLE(gauss(), i * 4);
  const ones = Buffer.alloc(POOL_BYTES);
  for (let i = 0; i < POOL_BYTES / 4; i++) ones.writeFloatLE(1 + gauss(), i * 4);
  const f16 = Buffer.alloc(POOL_BYTES);
  for (let i = 0; i < POOL_BYTES / 2; i++) f16.writeUInt16LE(f32ToF16(gauss()), i * 2);
  // Q8_0 block: f16 scale + 32 int8; the pool length is a whole number of 34-byte blocks
  const blocks = Math.floor(POOL_BYTES / 34);
  const q8 = Buffer.alloc(blocks * 34);
  const d = f32ToF16(scale / 64);
  for (let b = 0; b < blocks; b++) {
    q8.writeUInt16LE(d, b * 34);
    for (let j = 0; j < 32; j++) q8.writeInt8(Math.floor(r() * 255) - 127, b * 34 + 2 + j);
  }
  return { f32, f16, q8_0: q8, ones };
}

class Sink {
  private buf = Buffer.alloc(4 << 20);
  private used = 0;
  written = 0;
  constructor(private readonly fh: FileHandle) {}
  async put(b: Uint8Array): Promise<void> {
    if (this.used + b.length > this.buf.length) await this.flush();
    if (b.length > this.buf.length) {
      await this.fh.write(b);
    } else {
      this.buf.set(b, this.used);
      this.used += b.length;
    }
    this.written += b.length;
  }
  async fill(pool: Buffer, n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const k = Math.min(left, pool.length);
      await this.put(pool.subarray(0, k));
      left -= k;
    }
  }
  async flush(): Promise<void> {
    if (this.used) await this.fh.write(this.buf.subarray(0, this.used));
    this.used = 0;
  }
}

const u32 = (v: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; };
const i32 = (v: number) => { const b = Buffer.alloc(4); b.writeInt32LE(v); return b; };
const u64 = (v: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return b; };
const f32b = (v: number) => { const b = Buffer.alloc(4); b.writeFloatLE(v); return b; };

// ---------- whisper ------------------------------------------------------------------------------

export const WHISPER_DIMS = {
  /** for unit tests: loads and runs in well under a second on one thread */
  test: { n_vocab: 51864, n_audio_ctx: 1500, n_audio_state: 32, n_audio_head: 2, n_audio_layer: 1, n_text_ctx: 448, n_text_state: 32, n_text_head: 2, n_text_layer: 1, n_mels: 80, ftype: 1 },
  'tiny.en': { n_vocab: 51864, n_audio_ctx: 1500, n_audio_state: 384, n_audio_head: 6, n_audio_layer: 4, n_text_ctx: 448, n_text_state: 384, n_text_head: 6, n_text_layer: 4, n_mels: 80, ftype: 1 },
  'base.en': { n_vocab: 51864, n_audio_ctx: 1500, n_audio_state: 512, n_audio_head: 8, n_audio_layer: 6, n_text_ctx: 448, n_text_state: 512, n_text_head: 8, n_text_layer: 6, n_mels: 80, ftype: 1 },
} satisfies Record<string, WhisperHparams>;

export interface WhisperWriteOptions {
  hparams?: WhisperHparams;
  /** tokens stored in the file's vocabulary (whisper.cpp fills the rest up to n_vocab) */
  vocabEntries?: number;
  seed?: number;
}

/** Write a random-weight whisper ggml model; returns the file size. */
export async function writeWhisperModel(file: string, opts: WhisperWriteOptions = {}): Promise<number> {
  const h = opts.hparams ?? WHISPER_DIMS.test;
  const pools = makePools(opts.seed ?? 1, 0.05);
  const fh = await open(file, 'w');
  try {
    const s = new Sink(fh);
    await s.put(u32(GGML_MAGIC));
    for (const k of HPARAM_ORDER) await s.put(i32(h[k]));
    const nFft = 201;
    await s.put(i32(h.n_mels));
    await s.put(i32(nFft));
    const filters = Buffer.alloc(h.n_mels * nFft * 4);
    for (let m = 0; m < h.n_mels; m++) {
      // triangular-ish filters so the mel spectrogram is not all zero
      const centre = Math.round(((m + 1) * nFft) / (h.n_mels + 2));
      for (let k = Math.max(0, centre - 3); k <= Math.min(nFft - 1, centre + 3); k++) filters.writeFloatLE(1 - Math.abs(k - centre) / 4, (m * nFft + k) * 4);
    }
    await s.put(filters);
    const nv = opts.vocabEntries ?? 1000;
    await s.put(i32(nv));
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    for (let i = 0; i < nv; i++) {
      const word = i < 256 ? (i >= 32 && i <= 126 ? String.fromCharCode(i) : `[b${i}]`) : ` ${letters[i % 26]}${letters[Math.floor(i / 26) % 26]}${letters[Math.floor(i / 676) % 26]}`;
      const b = Buffer.from(word, 'utf8');
      await s.put(u32(b.length));
      await s.put(b);
    }
    for (const t of whisperTensorSpecs(h)) {
      const name = Buffer.from(t.name, 'utf8');
      await s.put(i32(t.ne.length));
      await s.put(i32(name.length));
      await s.put(i32(t.type));
      for (const d of t.ne) await s.put(i32(d));
      await s.put(name);
      const n = tensorBytes(t.ne, t.type);
      const isNorm = t.name.includes('ln') && t.name.endsWith('.weight') && t.ne.length === 1;
      await s.fill(t.type === 0 ? (isNorm ? pools.ones : pools.f32) : pools.f16, n);
    }
    await s.flush();
    return s.written;
  } finally {
    await fh.close();
  }
}

// ---------- GGUF ---------------------------------------------------------------------------------

export interface LlamaDims {
  arch: 'llama' | 'qwen2';
  n_vocab: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  n_head_kv: number;
  n_ff: number;
  context_length: number;
  rope_freq_base: number;
  rms_eps: number;
  /** GGML type of the matrices: 0 F32, 1 F16, 8 Q8_0 */
  type: 0 | 1 | 8;
  tied_embeddings: boolean;
}

export const LLAMA_DIMS = {
  test: { arch: 'qwen2', n_vocab: 4096, n_embd: 64, n_layer: 2, n_head: 4, n_head_kv: 2, n_ff: 128, context_length: 2048, rope_freq_base: 1_000_000, rms_eps: 1e-6, type: 8, tied_embeddings: true },
  'qwen2.5-0.5b': { arch: 'qwen2', n_vocab: 151936, n_embd: 896, n_layer: 24, n_head: 14, n_head_kv: 2, n_ff: 4864, context_length: 32768, rope_freq_base: 1_000_000, rms_eps: 1e-6, type: 8, tied_embeddings: true },
} satisfies Record<string, LlamaDims>;

export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

type GgufValue =
  | { t: 'u32'; v: number } | { t: 'i32'; v: number } | { t: 'f32'; v: number } | { t: 'bool'; v: boolean }
  | { t: 'str'; v: string } | { t: 'arr_str'; v: string[] } | { t: 'arr_f32'; v: number[] } | { t: 'arr_i32'; v: number[] };

function ggufString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([u64(b.length), b]);
}

function ggufKv(key: string, val: GgufValue): Buffer {
  const parts: Buffer[] = [ggufString(key)];
  switch (val.t) {
    case 'u32': parts.push(u32(4), u32(val.v)); break;
    case 'i32': parts.push(u32(5), i32(val.v)); break;
    case 'f32': parts.push(u32(6), f32b(val.v)); break;
    case 'bool': parts.push(u32(7), Buffer.from([val.v ? 1 : 0])); break;
    case 'str': parts.push(u32(8), ggufString(val.v)); break;
    case 'arr_str': parts.push(u32(9), u32(8), u64(val.v.length)); for (const x of val.v) parts.push(ggufString(x)); break;
    case 'arr_f32': {
      const b = Buffer.alloc(val.v.length * 4);
      val.v.forEach((x, i) => b.writeFloatLE(x, i * 4));
      parts.push(u32(9), u32(6), u64(val.v.length), b);
      break;
    }
    case 'arr_i32': {
      const b = Buffer.alloc(val.v.length * 4);
      val.v.forEach((x, i) => b.writeInt32LE(x, i * 4));
      parts.push(u32(9), u32(5), u64(val.v.length), b);
      break;
    }
  }
  return Buffer.concat(parts);
}

/**
 * Everyday English so the SPM vocabulary splits conversational text into about as many tokens as a real
 * model's tokenizer does (one per common word): token counts, and so prompt costs, stay realistic.
 */
export const COMMON_WORDS = (
  'you are a concise friendly real time voice assistant on phone call answer in plain english 2 3 short sentences no markdown lists emojis ' +
  'hello hi thanks thank for calling calls sure i can book table four people tomorrow at seven the evening is there anything else help with ' +
  'restaurant has free parking behind building and entrance main street goodbye would like to around if possible great we will come by car ' +
  'what when where who why how this that these those it its me my mine your yours our we they them their he she him her his hers ' +
  'do does did done have had having be been being am was were can could should would may might must shall will not yes ok okay please ' +
  'of to from into onto over under about after before between during without within up down out off again then once here all any both each ' +
  'few more most other some such only own same so than too very just now also well back still even because but or as until while ' +
  'time day week month year today tonight morning afternoon night hour minute minutes hours days weeks number name address email ' +
  'reservation appointment order delivery price cost pay card cash confirm confirmed cancel change tell ask say said know think see want need ' +
  'get got go going went make made take took give gave find found call called speak talk hear listen wait moment sorry problem sure right ' +
  'good bad new old first last next one two five six eight nine ten twelve half open closed today doctor office store shop home work ' +
  'owner message leave later soon again let check available booked full room people person family friend name owner assistant user system'
).split(' ').filter((w, i, a) => w && a.indexOf(w) === i);

/** SPM vocabulary: <unk> <s> </s>, 256 byte tokens, ChatML control tokens, characters, words (with all their prefixes), filler. */
function spmVocab(n: number, words: string[]): { tokens: string[]; scores: number[]; types: number[]; imStart: number; imEnd: number } {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [2, 3, 3];
  for (let b = 0; b < 256; b++) { tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`); types.push(6); }
  const imStart = tokens.push('<|im_start|>') - 1; types.push(3);
  const imEnd = tokens.push('<|im_end|>') - 1; types.push(3);
  const seen = new Set(tokens);
  const add = (t: string) => { if (!seen.has(t) && tokens.length < n) { seen.add(t); tokens.push(t); types.push(1); } };
  for (const c of '▁abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?\'-:;\n') add(c);
  for (const w of [...words, 'user', 'assistant', 'system']) {
    for (const form of new Set([w, w[0].toUpperCase() + w.slice(1)])) {
      for (let i = 1; i <= form.length; i++) add(`▁${form.slice(0, i)}`);
      for (let i = 2; i <= form.length; i++) add(form.slice(0, i));
    }
  }
  for (let i = 0; tokens.length < n; i++) add(`▁z${i.toString(36)}`);
  // longer pieces score higher, so merges end at whole words
  const scores = tokens.map((t, i) => (types[i] === 1 ? [...t].length - i / (n * 10) : 0));
  return { tokens, scores, types, imStart, imEnd };
}

/** Write a random-weight GGUF v3 chat model; returns the file size. */
export async function writeLlamaGguf(file: string, dims: LlamaDims = LLAMA_DIMS.test, opts: { name?: string; seed?: number; words?: string[] } = {}): Promise<number> {
  const d = dims;
  const A = d.arch;
  const vocab = spmVocab(d.n_vocab, opts.words ?? COMMON_WORDS);
  const head = d.n_embd / d.n_head;
  const ftype = d.type === 8 ? 7 : d.type === 1 ? 1 : 0;
  const kv: [string, GgufValue][] = [
    ['general.architecture', { t: 'str', v: A }],
    ['general.name', { t: 'str', v: opts.name ?? 'random-weights' }],
    ['general.file_type', { t: 'u32', v: ftype }],
    ['general.alignment', { t: 'u32', v: 32 }],
    [`${A}.context_length`, { t: 'u32', v: d.context_length }],
    [`${A}.embedding_length`, { t: 'u32', v: d.n_embd }],
    [`${A}.block_count`, { t: 'u32', v: d.n_layer }],
    [`${A}.feed_forward_length`, { t: 'u32', v: d.n_ff }],
    [`${A}.attention.head_count`, { t: 'u32', v: d.n_head }],
    [`${A}.attention.head_count_kv`, { t: 'u32', v: d.n_head_kv }],
    [`${A}.rope.dimension_count`, { t: 'u32', v: head }],
    [`${A}.rope.freq_base`, { t: 'f32', v: d.rope_freq_base }],
    [`${A}.attention.layer_norm_rms_epsilon`, { t: 'f32', v: d.rms_eps }],
    ['tokenizer.ggml.model', { t: 'str', v: 'llama' }],
    ['tokenizer.ggml.tokens', { t: 'arr_str', v: vocab.tokens }],
    ['tokenizer.ggml.scores', { t: 'arr_f32', v: vocab.scores }],
    ['tokenizer.ggml.token_type', { t: 'arr_i32', v: vocab.types }],
    ['tokenizer.ggml.bos_token_id', { t: 'u32', v: 1 }],
    ['tokenizer.ggml.eos_token_id', { t: 'u32', v: vocab.imEnd }],
    ['tokenizer.ggml.unknown_token_id', { t: 'u32', v: 0 }],
    ['tokenizer.ggml.padding_token_id', { t: 'u32', v: 2 }],
    ['tokenizer.ggml.add_bos_token', { t: 'bool', v: false }],
    ['tokenizer.ggml.add_eos_token', { t: 'bool', v: false }],
    ['tokenizer.chat_template', { t: 'str', v: CHATML_TEMPLATE }],
  ];
  const kvd = d.n_head_kv * head;
  const W = d.type;
  const F = 0;
  const tensors: { name: string; ne: number[]; type: number; kind: Kind }[] = [];
  const mat = (name: string, ne: number[]) => tensors.push({ name, ne, type: W, kind: W === 8 ? 'q8_0' : W === 1 ? 'f16' : 'f32' });
  const vec = (name: string, n: number, kind: Kind = 'f32') => tensors.push({ name, ne: [n], type: F, kind });
  mat('token_embd.weight', [d.n_embd, d.n_vocab]);
  vec('output_norm.weight', d.n_embd, 'ones');
  if (!d.tied_embeddings) mat('output.weight', [d.n_embd, d.n_vocab]);
  for (let i = 0; i < d.n_layer; i++) {
    const p = `blk.${i}`;
    vec(`${p}.attn_norm.weight`, d.n_embd, 'ones');
    mat(`${p}.attn_q.weight`, [d.n_embd, d.n_embd]);
    mat(`${p}.attn_k.weight`, [d.n_embd, kvd]);
    mat(`${p}.attn_v.weight`, [d.n_embd, kvd]);
    if (A === 'qwen2') {
      vec(`${p}.attn_q.bias`, d.n_embd);
      vec(`${p}.attn_k.bias`, kvd);
      vec(`${p}.attn_v.bias`, kvd);
    }
    mat(`${p}.attn_output.weight`, [d.n_embd, d.n_embd]);
    vec(`${p}.ffn_norm.weight`, d.n_embd, 'ones');
    mat(`${p}.ffn_gate.weight`, [d.n_embd, d.n_ff]);
    mat(`${p}.ffn_up.weight`, [d.n_embd, d.n_ff]);
    mat(`${p}.ffn_down.weight`, [d.n_ff, d.n_embd]);
  }
  const ALIGN = 32;
  const pad = (n: number) => (ALIGN - (n % ALIGN)) % ALIGN;
  let offset = 0;
  const infos: Buffer[] = [];
  for (const t of tensors) {
    infos.push(Buffer.concat([ggufString(t.name), u32(t.ne.length), ...t.ne.map(u64), u32(t.type), u64(offset)]));
    const n = tensorBytes(t.ne, t.type);
    offset += n + pad(n);
  }
  const pools = makePools(opts.seed ?? 2, 0.02);
  const fh = await open(file, 'w');
  try {
    const s = new Sink(fh);
    await s.put(Buffer.from('GGUF', 'latin1'));
    await s.put(u32(3));
    await s.put(u64(tensors.length));
    await s.put(u64(kv.length));
    for (const [k, v] of kv) await s.put(ggufKv(k, v));
    for (const b of infos) await s.put(b);
    await s.put(Buffer.alloc(pad(s.written)));
    for (const t of tensors) {
      const n = tensorBytes(t.ne, t.type);
      await s.fill(pools[t.kind], n);
      await s.put(Buffer.alloc(pad(n)));
    }
    await s.flush();
    return s.written;
  } finally {
    await fh.close();
  }
}

// ---------- Piper voice (ONNX + JSON) ------------------------------------------------------------

/** Minimal protobuf writer for the ONNX messages below. */
class Pb {
  private parts: Buffer[] = [];
  private varint(n: number | bigint): void {
    let v = BigInt(n);
    if (v < 0n) v += 1n << 64n;
    const out: number[] = [];
    do { let b = Number(v & 0x7fn); v >>= 7n; if (v) b |= 0x80; out.push(b); } while (v);
    this.parts.push(Buffer.from(out));
  }
  int(field: number, v: number | bigint): this { this.varint((field << 3) | 0); this.varint(v); return this; }
  bytes(field: number, b: Buffer): this { this.varint((field << 3) | 2); this.varint(b.length); this.parts.push(b); return this; }
  str(field: number, s: string): this { return this.bytes(field, Buffer.from(s, 'utf8')); }
  msg(field: number, m: Pb): this { return this.bytes(field, m.done()); }
  done(): Buffer { return Buffer.concat(this.parts); }
}

const ONNX_FLOAT = 1;
const ONNX_INT64 = 7;
const valueInfo = (name: string, elem: number, dims: (number | string)[]) => {
  const shape = new Pb();
  for (const d of dims) shape.msg(1, typeof d === 'number' ? new Pb().int(1, d) : new Pb().str(2, d));
  return new Pb().str(1, name).msg(2, new Pb().msg(1, new Pb().int(1, elem).msg(2, shape)));
};
const node = (op: string, inputs: string[], outputs: string[], attrs: Pb[] = []) => {
  const n = new Pb();
  for (const i of inputs) n.str(1, i);
  for (const o of outputs) n.str(2, o);
  n.str(3, `${op}_${outputs[0]}`).str(4, op);
  for (const a of attrs) n.msg(5, a);
  return n;
};
const int64Tensor = (name: string, values: number[]) => {
  const raw = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => raw.writeBigInt64LE(BigInt(v), i * 8));
  return new Pb().int(1, values.length).int(2, ONNX_INT64).str(8, name).bytes(9, raw);
};
const floatTensor = (name: string, values: number[]) => {
  const raw = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => raw.writeFloatLE(v, i * 4));
  return new Pb().int(1, values.length).int(2, ONNX_FLOAT).str(8, name).bytes(9, raw);
};

/** Samples the fake Piper voice produces per phoneme id. */
export const FAKE_PIPER_SAMPLES_PER_ID = 256;

/**
 * A stand-in Piper voice with Piper's ONNX interface (inputs `input` [1,N] int64, `input_lengths` [1] int64,
 * `scales` [3] float, output `output` [1,1,T] float) and a real `.onnx.json` config. Its audio encodes the
 * ids it was given: the N ids repeat 256 times and sample k (k < N) is sin(id_k · 0.01) · mean(scales), so a
 * test can read the phoneme ids back from the sound.
 */
export async function writeFakePiperVoice(onnxFile: string, opts: { sampleRate?: number; espeakVoice?: string; speakers?: number } = {}): Promise<void> {
  const graph = new Pb()
    .msg(1, node('Cast', ['input'], ['x'], [new Pb().str(1, 'to').int(20, 2).int(3, ONNX_FLOAT)]))
    .msg(1, node('Mul', ['x', 'k'], ['y']))
    .msg(1, node('Tile', ['y', 'repeats'], ['z']))
    .msg(1, node('Sin', ['z'], ['s']))
    .msg(1, node('ReduceMean', ['scales'], ['m'], [new Pb().str(1, 'keepdims').int(20, 2).int(3, 1)]))
    .msg(1, node('Mul', ['s', 'm'], ['w']))
    .msg(1, node('Unsqueeze', ['w', 'axes'], ['output']))
    .str(2, 'fake_piper')
    .msg(5, floatTensor('k', [0.01]))
    .msg(5, int64Tensor('repeats', [1, FAKE_PIPER_SAMPLES_PER_ID]))
    .msg(5, int64Tensor('axes', [1]))
    .msg(11, valueInfo('input', ONNX_INT64, [1, 'phonemes']))
    .msg(11, valueInfo('input_lengths', ONNX_INT64, [1]))
    .msg(11, valueInfo('scales', ONNX_FLOAT, [3]))
    .msg(12, valueInfo('output', ONNX_FLOAT, [1, 1, 'time']));
  if ((opts.speakers ?? 1) > 1) graph.msg(11, valueInfo('sid', ONNX_INT64, [1]));
  const model = new Pb().int(1, 7).str(2, 'clawfinger-test').msg(8, new Pb().str(1, '').int(2, 13)).msg(7, graph).done();
  await writeFile(onnxFile, model);
  // Piper's phoneme map: pad, bos, eos, space, punctuation, then the IPA symbols espeak-ng uses
  const symbols = ['_', '^', '$', ' ', '!', "'", '(', ')', ',', '-', '.', ':', ';', '?',
    ...'abcdefghijklmnopqrstuvwxyz'.split(''),
    ...'æçðøħŋœǀǁǂǃɐɑɒɓɔɕɖɗɘəɚɛɜɞɟɠɡɢɣɤɥɦɧɨɪɫɬɭɮɯɰɱɲɳɴɵɶɸɹɺɻɽɾʀʁʂʃʄʈʉʊʋʌʍʎʏʐʑʒʔʕʘʙʛʜʝʟʡʢˈˌːˑ̩̃ᵻ'.split('')];
  const map: Record<string, number[]> = {};
  symbols.forEach((s, i) => { map[s] = [i]; });
  const config = {
    audio: { sample_rate: opts.sampleRate ?? 22050, quality: 'test' },
    espeak: { voice: opts.espeakVoice ?? 'en-us' },
    inference: { noise_scale: 0.667, length_scale: 1, noise_w: 0.8 },
    phoneme_type: 'espeak',
    phoneme_id_map: map,
    num_symbols: symbols.length,
    num_speakers: opts.speakers ?? 1,
    speaker_id_map: {},
    piper_version: '1.0.0',
  };
  await writeFile(`${onnxFile}.json`, JSON.stringify(config, null, 2));
}
