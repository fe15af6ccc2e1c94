import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain .mjs install script without type declarations
import { cpuSimd, patchBinding } from '../../scripts/build-whisper-simd.mjs';

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

describe('whisper SIMD install step', () => {
  it('builds with AVX2 only on x86-64 Linux CPUs that have AVX2, FMA and F16C', () => {
    const info = (flags: string) => `processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: ${flags}\n\nprocessor\t: 1\n`;
    expect(cpuSimd('linux', 'x64', info('fpu sse sse2 avx avx2 fma f16c bmi2'))).toBe('avx2');
    expect(cpuSimd('linux', 'x64', info('fpu sse sse2 avx fma f16c'))).toBe('none');
    expect(cpuSimd('linux', 'x64', info('fpu sse sse2 avx avx2 f16c'))).toBe('none');
    expect(cpuSimd('linux', 'x64', '')).toBe('none');
    expect(cpuSimd('darwin', 'x64', info('avx2 fma f16c'))).toBe('none');
    expect(cpuSimd('linux', 'arm64', '')).toBe('neon');
  });

  it('patches the binding once and leaves an already patched or unknown source alone', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cf-simd-'));
    dirs.push(dir);
    await mkdir(path.join(dir, 'src', 'binding'), { recursive: true });
    const file = path.join(dir, 'src', 'binding', 'model.cc');
    const original = [
      '    void Execute() override {',
      '        context = whisper_init_from_file_with_params_no_state(model_path.c_str(), params);',
      '        if (context == nullptr) {',
      '            SetError("Failed to initialize whisper context");',
      '        }',
      '        whisper_print_timings(context);',
      '    }',
      '   private:',
      '    struct whisper_context_params params;',
      '    std::string model_path = info[0].As<Napi::String>();',
      '',
      '    whisper_context_params params;',
      '    params.use_gpu = true;',
      '',
    ].join('\n');
    await writeFile(file, original);
    patchBinding(dir);
    const once = await readFile(file, 'utf8');
    expect(once).toContain('    whisper_context_params params = whisper_context_default_params();');
    expect(once).toContain('    struct whisper_context_params params;'); // the member declaration is not touched
    expect(once).toMatch(/SetError\("Failed to initialize whisper context"\);\n\s*} else {\n\s*whisper_print_timings\(context\);\n\s*}/);
    patchBinding(dir);
    expect(await readFile(file, 'utf8')).toBe(once);
    patchBinding(path.join(dir, 'missing')); // no source: nothing happens, nothing throws
  });
});
