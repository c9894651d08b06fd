/**
 * A small PNG encoder and decoder on node:zlib, for 8-bit gray, RGB and RGBA: summaries' pixels,
 * projector sprites, and the decoding of a user's sprite.
 *
 * Kept beside @napi-rs/canvas (Skia) by measurement (`npm run bench:codecs`, loaded 2-core
 * machine): Skia writes only RGBA from a premultiplied canvas, so an image with partial alpha
 * comes back changed (5,760 of 16,384 bytes of a 64×64 test) and the 10,000-tile RGB sprite grows
 * from 21.1 to 24.0 MB at the same ~3.5 s; and Skia decodes a truncated or corrupt PNG into
 * silent black pixels where `decodePng` gives one clear line. Skia is faster on an 800×600 frame
 * (51 vs 139 ms, but frames are encoded by the renderer's Skia canvas anyway) and at decoding (a
 * 3200×3200 sprite, read once per chain: 0.31 vs 0.49 s).
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { UserError } from '../errors.ts';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const COLOR_TYPE_FOR_CHANNELS = { 1: 0, 2: 4, 3: 2, 4: 6 } as const;
const CHANNELS_FOR_COLOR_TYPE: Record<number, 1 | 2 | 3 | 4> = { 0: 1, 4: 2, 2: 3, 6: 4 };

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The zlib CRC-32 PNG chunks carry (not CRC-32C). */
function crc32(bytes: Uint8Array, crc = 0xffffffff): number {
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return crc;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  const crc = crc32(out.subarray(4, 8 + data.length)) ^ 0xffffffff;
  out.writeUInt32BE(crc >>> 0, 8 + data.length);
  return out;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** PNG filter `filter` (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth) of one row, one loop per type. */
function applyFilter(filter: number, row: Uint8Array, above: Uint8Array, channels: number, out: Uint8Array): void {
  const stride = row.length;
  switch (filter) {
    case 0:
      out.set(row);
      return;
    case 1:
      for (let x = 0; x < channels; x++) out[x] = row[x]!;
      for (let x = channels; x < stride; x++) out[x] = row[x]! - row[x - channels]!;
      return;
    case 2:
      for (let x = 0; x < stride; x++) out[x] = row[x]! - above[x]!;
      return;
    case 3:
      for (let x = 0; x < channels; x++) out[x] = row[x]! - (above[x]! >> 1);
      for (let x = channels; x < stride; x++) out[x] = row[x]! - ((row[x - channels]! + above[x]!) >> 1);
      return;
    default:
      for (let x = 0; x < channels; x++) out[x] = row[x]! - above[x]!;
      for (let x = channels; x < stride; x++)
        out[x] = row[x]! - paeth(row[x - channels]!, above[x]!, above[x - channels]!);
  }
}

/**
 * Undoes PNG filter `filter` on one row into `out`, given the row above (zeros for the first),
 * one loop per type. A Uint8Array keeps each sum modulo 256, as the format wants.
 */
function unfilterRow(filter: number, row: Uint8Array, above: Uint8Array, channels: number, out: Uint8Array): void {
  const stride = row.length;
  switch (filter) {
    case 0:
      out.set(row);
      return;
    case 1:
      for (let x = 0; x < channels; x++) out[x] = row[x]!;
      for (let x = channels; x < stride; x++) out[x] = row[x]! + out[x - channels]!;
      return;
    case 2:
      for (let x = 0; x < stride; x++) out[x] = row[x]! + above[x]!;
      return;
    case 3:
      for (let x = 0; x < channels; x++) out[x] = row[x]! + (above[x]! >> 1);
      for (let x = channels; x < stride; x++) out[x] = row[x]! + ((out[x - channels]! + above[x]!) >> 1);
      return;
    default:
      for (let x = 0; x < channels; x++) out[x] = row[x]! + above[x]!;
      // Paeth without branches (the hot loop of a typical sprite; data-dependent branches
      // mispredict): pa = |b - c|, pb = |a - c|, pc = |a + b - 2c|, and sign masks pick a, b or c.
      for (let x = channels; x < stride; x++) {
        const a = out[x - channels]!;
        const b = above[x]!;
        const c = above[x - channels]!;
        const bc = b - c;
        const ac = a - c;
        const abc = bc + ac;
        const pa = (bc ^ (bc >> 31)) - (bc >> 31);
        const pb = (ac ^ (ac >> 31)) - (ac >> 31);
        const pc = (abc ^ (abc >> 31)) - (abc >> 31);
        const notA = ((pb - pa) | (pc - pa)) >> 31;
        const cOverB = (pc - pb) >> 31;
        const bOrC = (b & ~cOverB) | (c & cOverB);
        out[x] = row[x]! + ((a & ~notA) | (bOrC & notA));
      }
  }
}

/**
 * Encodes 8-bit pixels (`channels` 3 = RGB, 4 = RGBA; also 1 = gray, 2 = gray + alpha), row-major.
 * Each row gets the filter with the smallest sum of absolute differences (libpng's heuristic),
 * which keeps flat plots and thumbnails small.
 */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 2 | 3 | 4 = 4): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`PNG size must be positive integers, got ${width}×${height}`);
  }
  if (pixels.length !== width * height * channels) {
    throw new RangeError(
      `PNG of ${width}×${height}×${channels} needs ${width * height * channels} bytes, got ${pixels.length}`,
    );
  }
  const stride = width * channels;
  const filtered = Buffer.alloc((stride + 1) * height);
  const candidates = Array.from({ length: 5 }, () => new Uint8Array(stride));
  const zeroRow = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    const above = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : zeroRow;
    let best = 0;
    let bestScore = Infinity;
    for (let filter = 0; filter < 5; filter++) {
      const out = candidates[filter]!;
      applyFilter(filter, row, above, channels, out);
      let score = 0;
      for (let x = 0; x < stride; x++) {
        const value = out[x]!;
        score += value < 128 ? value : 256 - value;
      }
      if (score < bestScore) {
        bestScore = score;
        best = filter;
      }
    }
    filtered[y * (stride + 1)] = best;
    filtered.set(candidates[best]!, y * (stride + 1) + 1);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = COLOR_TYPE_FOR_CHANNELS[channels];
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(filtered)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colorType: number;
}

/** True when `bytes` start with the PNG signature and an IHDR chunk. */
export function isPng(bytes: Uint8Array): boolean {
  return readPngHeader(bytes) !== undefined;
}

/** Width, height, bit depth and colour type from the IHDR chunk, or undefined if not a PNG. */
export function readPngHeader(bytes: Uint8Array): PngHeader | undefined {
  if (bytes.length < 33) return undefined;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!buffer.subarray(0, 8).equals(SIGNATURE) || buffer.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return {
    width: buffer.readUInt32BE(16),
    height: buffer.readUInt32BE(20),
    bitDepth: buffer[24]!,
    colorType: buffer[25]!,
  };
}

export interface DecodedPng {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  pixels: Uint8Array;
}

/** True for a PNG `decodePng` reads: 8-bit gray, gray + alpha, RGB or RGBA, not interlaced. */
export function isDecodablePng(bytes: Uint8Array): boolean {
  const header = readPngHeader(bytes);
  // Byte 28 is IHDR's interlace method.
  return header !== undefined && header.bitDepth === 8 && header.colorType in CHANNELS_FOR_COLOR_TYPE && !bytes[28];
}

/**
 * Decodes a non-interlaced 8-bit gray, gray + alpha, RGB or RGBA PNG (what `encodePng`, canvas
 * and TensorBoard's writers produce). `name` is used in error messages.
 */
export function decodePng(bytes: Uint8Array, name = 'PNG'): DecodedPng {
  const header = readPngHeader(bytes);
  if (header === undefined) throw new UserError(`${name}: not a PNG file (bad signature); pass PNG bytes`);
  const channels = CHANNELS_FOR_COLOR_TYPE[header.colorType];
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isDecodablePng(bytes) || channels === undefined) {
    throw new UserError(
      `${name}: unsupported PNG (bit depth ${header.bitDepth}, colour type ${header.colorType}, interlace ` +
        `${buffer[28]}); only 8-bit non-interlaced gray/RGB/RGBA is read`,
    );
  }
  const idat: Buffer[] = [];
  for (let at = 8; at + 12 <= buffer.length;) {
    const length = buffer.readUInt32BE(at);
    const type = buffer.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') idat.push(buffer.subarray(at + 8, at + 8 + length));
    if (type === 'IEND') break;
    at += 12 + length;
  }
  const { width, height } = header;
  const stride = width * channels;
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (error) {
    throw new UserError(`${name}: corrupt PNG image data (${(error as Error).message})`);
  }
  if (raw.length < (stride + 1) * height) throw new UserError(`${name}: PNG image data is truncated`);
  const pixels = new Uint8Array(stride * height);
  // A plain Uint8Array view: the row loops then see one array type, not Buffer and Uint8Array.
  const filteredRows = new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  const zeroRow = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    if (filter > 4) throw new UserError(`${name}: corrupt PNG (row ${y} has filter type ${filter})`);
    const source = filteredRows.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    const above = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : zeroRow;
    unfilterRow(filter, source, above, channels, row);
  }
  return { width, height, channels, pixels };
}
