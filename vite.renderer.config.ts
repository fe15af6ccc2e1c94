/**
 * The operator console build (`npm run build:renderer`): a static bundle in out/renderer with
 * index.html at its root. The gateway serves it under a strict CSP (no inline scripts, no remote
 * resources), so everything — scripts, styles, icons — is emitted as same-origin files.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root: resolve(here, 'src-renderer'),
  base: './',
  publicDir: false,
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: resolve(here, 'out/renderer'),
    emptyOutDir: true,
    target: 'es2022',
    // no inline data: URLs for assets (CSP-safe everywhere) and no module-preload polyfill (an inline script)
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    // explicit: electron-vite would otherwise leave the desktop build unminified
    minify: true,
    cssMinify: true,
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1024,
  },
});
