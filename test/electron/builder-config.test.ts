/** electron-builder.yml cannot be exercised here (packaging downloads Electron); validate what it promises. */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { minimatch } from 'minimatch';
import { parse } from 'yaml';
import electronVite from '../../electron.vite.config';
import rendererConfig from '../../vite.renderer.config';

const cfg = parse(readFileSync('electron-builder.yml', 'utf8'));
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

describe('electron-builder.yml', () => {
  it('targets AppImage + deb on Linux, dmg on macOS and nsis on Windows', () => {
    expect(cfg.linux.target).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    expect(cfg.mac.target).toContain('dmg');
    expect(cfg.win.target).toContain('nsis');
  });

  it('ships the built app and keeps native addons, models and voices outside the asar', () => {
    expect(cfg.files).toContain('out/**/*');
    expect(cfg.asar).toBe(true);
    const unpacked = (cfg.asarUnpack as string[]).join('\n');
    for (const dep of Object.keys(pkg.dependencies)) {
      const native = ['better-sqlite3', 'smart-whisper', 'node-llama-cpp', 'speaker', 'onnxruntime-node'].includes(dep);
      if (native) expect(unpacked).toContain(`node_modules/${dep}/`);
    }
    expect(unpacked).toContain('**/*.node');
    expect(unpacked).toContain('**/*.onnx');
    expect(unpacked).toContain('**/*.wasm');
  });

  it('rebuilds native modules for Electron (better-sqlite3 needs it)', () => {
    expect(cfg.npmRebuild).toBe(true);
    expect(pkg.dependencies['better-sqlite3']).toBeDefined();
  });

  it('sets the security fuses', () => {
    expect(cfg.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });

  it('points at files that exist: icon, entry, preload source; `npm run dist` builds first', () => {
    expect(existsSync(cfg.linux.icon)).toBe(true);
    expect(pkg.main).toBe('out/main/index.js');
    expect(existsSync('src-main/electron/main.ts')).toBe(true);
    expect(existsSync('src-main/electron/preload.ts')).toBe(true);
    expect(pkg.scripts.dist).toMatch(/electron-vite build && electron-builder/);
    expect(cfg.mac.extendInfo.NSMicrophoneUsageDescription).toBeTruthy();
  });
});

/** Width and height from a PNG's IHDR chunk. */
function pngSize(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  expect(b.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(b.toString('ascii', 12, 16)).toBe('IHDR');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/** electron-builder's `files` semantics: included by a pattern, not excluded by a later `!pattern`. */
function shipped(path: string): boolean {
  let inc = false;
  for (const p of cfg.files as string[]) {
    if (p.startsWith('!')) {
      if (minimatch(path, p.slice(1), { dot: true })) inc = false;
    } else if (minimatch(path, p, { dot: true })) inc = true;
  }
  return inc;
}

describe('electron-builder assets and files', () => {
  it('the app icon is a square PNG of at least 512×512 (macOS needs it) and the mac build uses it', () => {
    const icon = cfg.mac.icon ?? `${cfg.directories.buildResources}/icon.png`;
    for (const f of new Set([icon, cfg.linux.icon, 'assets/icon.png'])) {
      const { width, height } = pngSize(f);
      expect(width, f).toBeGreaterThanOrEqual(512);
      expect(height, f).toBe(width);
    }
    expect(pngSize('assets/tray.png').width).toBeGreaterThanOrEqual(16);
  });

  it('ships the main bundle, the sandboxed preload (out/preload/index.cjs) and the built console (out/renderer)', () => {
    for (const f of ['out/main/index.js', 'out/preload/index.cjs', 'out/renderer/index.html', 'out/renderer/assets/index-abc123.js', 'out/renderer/assets/index-abc123.css', 'package.json']) {
      expect(shipped(f), f).toBe(true);
    }
    // …and not source maps or tests
    expect(shipped('out/main/index.js.map')).toBe(false);
    expect(shipped('out/renderer/x.test.js')).toBe(false);
    // the paths main.ts loads them from are where electron-vite writes them
    const main = readFileSync('src-main/electron/main.ts', 'utf8');
    expect(main).toContain("join(here, '..', 'preload', 'index.cjs')");
    expect(main).toContain("join(here, '..', 'renderer')");
    const preload = (electronVite as { preload: { build: { outDir: string; rollupOptions: { output: { entryFileNames: string } } } } }).preload;
    expect(preload.build.outDir).toBe('out/preload');
    expect(preload.build.rollupOptions.output.entryFileNames).toBe('[name].cjs');
    const renderer = (electronVite as { renderer: { build: { outDir: string } } }).renderer;
    expect(renderer.build.outDir.replace(/\\/g, '/')).toMatch(/\/out\/renderer$/);
  });
});

describe('electron.vite.config.ts', () => {
  it('builds the console with the same settings as `build:renderer` (the desktop app and the browser get one bundle)', () => {
    const renderer = (electronVite as { renderer: typeof rendererConfig }).renderer;
    const shared = rendererConfig as { root: string; base: string; build: Record<string, unknown> };
    expect(renderer.root).toBe(shared.root);
    expect(renderer.base).toBe('./');
    expect(renderer.plugins).toBe(rendererConfig.plugins);
    const { rollupOptions, ...build } = renderer.build as Record<string, unknown>;
    expect(build).toEqual(shared.build);
    expect(build).toMatchObject({ minify: true, assetsInlineLimit: 0, modulePreload: { polyfill: false } });
    expect(rollupOptions).toMatchObject({ input: expect.stringMatching(/src-renderer[\\/]index\.html$/) });
  });

  it('bundles the sandboxed preload as CommonJS with electron external', () => {
    const preload = (electronVite as { preload: { build: { rollupOptions: { external: string[]; output: { format: string } } } } }).preload;
    expect(preload.build.rollupOptions.output.format).toBe('cjs');
    expect(preload.build.rollupOptions.external).toContain('electron');
  });
});
