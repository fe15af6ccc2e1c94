#!/usr/bin/env node
/**
 * Renders the app icon (assets/icon.png): a teal disc with a white cross, 1024×1024 RGBA, anti-aliased
 * (electron-builder needs ≥ 512×512 for macOS). The geometry is that of the original 256×256 icon
 * (disc radius 123/256 around the centre, cross 144×40), scaled. Node only: zlib + a CRC table.
 * Usage: node scripts/make-icon.mjs [size] [out]
 */
import { writeFileSync } from 'node:fs';
import zlib from 'node:zlib';

const size = Number(process.argv[2] ?? 1024);
const out = process.argv[3] ?? 'assets/icon.png';
if (!Number.isInteger(size) || size < 16 || size > 4096) throw new Error('size must be an integer in 16..4096');

const TEAL = [20, 150, 140];
const u = size / 256; // units of the original icon
const c = 128 * u, r = 123 * u;
const long = [56 * u, 200 * u], arm = [108 * u, 148 * u];
const inCross = (x, y) => (x >= long[0] && x < long[1] && y >= arm[0] && y < arm[1]) || (y >= long[0] && y < long[1] && x >= arm[0] && x < arm[1]);
const SS = 4; // 4×4 samples per pixel

const stride = size * 4 + 1;
const raw = Buffer.alloc(size * stride);
for (let y = 0; y < size; y++) {
  raw[y * stride] = 0; // filter: none
  for (let x = 0; x < size; x++) {
    let disc = 0, white = 0;
    for (let sy = 0; sy < SS; sy++) for (let sx = 0; sx < SS; sx++) {
      const px = x + (sx + 0.5) / SS, py = y + (sy + 0.5) / SS;
      if ((px - c) ** 2 + (py - c) ** 2 <= r * r) {
        disc++;
        if (inCross(px, py)) white++;
      }
    }
    const a = disc / (SS * SS), wf = disc ? white / disc : 0;
    const o = y * stride + 1 + x * 4;
    for (let k = 0; k < 3; k++) raw[o + k] = Math.round(TEAL[k] + (255 - TEAL[k]) * wf);
    raw[o + 3] = Math.round(a * 255);
  }
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let v = n;
  for (let k = 0; k < 8; k++) v = v & 1 ? 0xedb88320 ^ (v >>> 1) : v >>> 1;
  return v >>> 0;
});
const crc32 = (buf) => {
  let v = 0xffffffff;
  for (const b of buf) v = crcTable[(v ^ b) & 255] ^ (v >>> 8);
  return (v ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
};
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(size, 0);
ihdr.writeUInt32BE(size, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // RGBA
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
writeFileSync(out, png);
console.log(`${out}: ${size}×${size}, ${png.length} bytes`);
