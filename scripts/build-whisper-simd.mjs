#!/usr/bin/env node
/**
 * postinstall: rebuild smart-whisper (whisper.cpp) with the CPU's SIMD instructions.
 *
 * node-gyp compiles whisper.cpp without -mavx2/-mfma/-mf16c, which makes it about 9× slower on x86-64.
 * On a CPU with AVX2 we rebuild with those flags; anywhere else (or on any failure) we keep the plain
 * build. This script never fails the install: every error is logged and the exit code is 0.
 *
 * It also fixes two bugs of smart-whisper 0.8's binding before compiling (both guarded: a source that
 * does not match is left alone): the whisper_context_params of a model load were left uninitialised,
 * and a model file whisper.cpp rejects crashed the process (NULL dereference) instead of rejecting the
 * promise.
 *
 * The result is recorded in build/Release/clawfinger-build.json ({ simd, flags, size, mtimeMs }) which the
 * ASR engine reports in its health. Set CLAWFINGER_SKIP_WHISPER_SIMD=1 to skip.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const TIMEOUT_MS = 6 * 60_000;
// NDEBUG: no assert() checks and no ggml-alloc debug prints on every graph change
const SIMD_FLAGS = ['-O3', '-DNDEBUG', '-mavx2', '-mfma', '-mf16c'];
const log = (msg) => console.log(`[whisper-simd] ${msg}`);

export function cpuSimd(platform = process.platform, arch = process.arch, cpuinfo = readCpuinfo()) {
  if (arch === 'arm64') return 'neon'; // ggml enables NEON by default on arm64
  if (arch !== 'x64' || platform !== 'linux' || !cpuinfo) return 'none';
  const flags = new Set((cpuinfo.match(/^flags\s*:(.*)$/m)?.[1] ?? '').trim().split(/\s+/));
  return flags.has('avx2') && flags.has('fma') && flags.has('f16c') ? 'avx2' : 'none';
}

function readCpuinfo() {
  try { return fs.readFileSync('/proc/cpuinfo', 'utf8'); } catch { return ''; }
}

function findNodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => c && fs.existsSync(c));
}

export function patchBinding(dir) {
  const file = path.join(dir, 'src', 'binding', 'model.cc');
  let src;
  try { src = fs.readFileSync(file, 'utf8'); } catch { return; }
  let out = src
    .replace(/^(\s*)whisper_context_params params;$/m, '$1whisper_context_params params = whisper_context_default_params();')
    .replace(/(SetError\("Failed to initialize whisper context"\);\n\s*})\n(\s*)whisper_print_timings\(context\);/, '$1 else {\n$2    whisper_print_timings(context);\n$2}');
  if (out !== src) {
    fs.writeFileSync(file, out);
    log('patched smart-whisper binding (initialised context params, no crash on a rejected model file)');
  }
}

function run(cmd, args, opts) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const keep = (d) => { tail = (tail + d.toString()).slice(-4000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => { tail += '\n(timed out)'; child.kill('SIGKILL'); }, TIMEOUT_MS);
    child.on('error', (e) => { clearTimeout(timer); resolve({ code: -1, tail: String(e) }); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? -1, tail }); });
  });
}

function writeMarker(binary, simd, flags) {
  try {
    const st = fs.statSync(binary);
    fs.writeFileSync(path.join(path.dirname(binary), 'clawfinger-build.json'), JSON.stringify({ simd, flags, size: st.size, mtimeMs: st.mtimeMs }, null, 2) + '\n');
  } catch (e) {
    log(`could not record the build: ${e.message}`);
  }
}

function readMarker(binary) {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(path.dirname(binary), 'clawfinger-build.json'), 'utf8'));
    const st = fs.statSync(binary);
    return m.size === st.size && m.mtimeMs === st.mtimeMs ? m : null;
  } catch { return null; }
}

export async function main() {
  if (process.env.CLAWFINGER_SKIP_WHISPER_SIMD === '1') return log('skipped (CLAWFINGER_SKIP_WHISPER_SIMD=1)');
  const require = createRequire(import.meta.url);
  let dir;
  try { dir = path.dirname(require.resolve('smart-whisper/package.json')); } catch { return log('smart-whisper is not installed; nothing to do'); }
  const binary = path.join(dir, 'build', 'Release', 'smart-whisper.node');
  const simd = cpuSimd();
  const marker = readMarker(binary);
  if (simd !== 'avx2') {
    if (fs.existsSync(binary) && !marker) writeMarker(binary, simd === 'neon' ? 'neon' : 'none', []);
    return log(`CPU SIMD: ${simd}; keeping the default build`);
  }
  if (marker?.simd === 'avx2' && JSON.stringify(marker.flags) === JSON.stringify(SIMD_FLAGS)) return log('smart-whisper is already built with AVX2');
  const gyp = findNodeGyp();
  if (!gyp) {
    if (fs.existsSync(binary)) writeMarker(binary, 'none', []);
    return log('node-gyp not found; keeping the default build (no SIMD)');
  }
  const backup = path.join(os.tmpdir(), `smart-whisper-${process.pid}.node`);
  const hadBinary = fs.existsSync(binary);
  if (hadBinary) fs.copyFileSync(binary, backup);
  patchBinding(dir);
  const flags = SIMD_FLAGS.join(' ');
  const env = { ...process.env, CFLAGS: `${process.env.CFLAGS ?? ''} ${flags}`.trim(), CXXFLAGS: `${process.env.CXXFLAGS ?? ''} ${flags}`.trim() };
  log(`rebuilding smart-whisper with ${flags} (about a minute)…`);
  const t0 = Date.now();
  const args = [gyp, 'rebuild', '--jobs', String(Math.max(1, os.cpus().length))];
  // headers: npm passes its `nodedir` setting; otherwise use the ones installed beside this node (no download)
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
  const r = await run(process.execPath, args, { cwd: dir, env });
  if (r.code === 0 && fs.existsSync(binary)) {
    writeMarker(binary, 'avx2', SIMD_FLAGS);
    log(`done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } else {
    log(`SIMD build failed (exit ${r.code}); keeping the default build. Last output:\n${r.tail}`);
    if (hadBinary) {
      fs.mkdirSync(path.dirname(binary), { recursive: true });
      fs.copyFileSync(backup, binary);
      writeMarker(binary, 'none', []);
    }
  }
  if (hadBinary) fs.rmSync(backup, { force: true });
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (isMain) {
  main().catch((e) => log(`unexpected error, keeping the default build: ${e?.stack ?? e}`)).finally(() => { process.exitCode = 0; });
}
