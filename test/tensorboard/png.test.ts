import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { UserError, decodePng, encodePng, isPng, readPngHeader } from '../../src/tensorboard/index.ts';
import { fixture } from './helpers/fixtures.ts';
import { needs } from '../helpers/requirements.ts';

function pseudoRandomPixels(length: number, seed: number): Uint8Array {
  let state = seed;
  return Uint8Array.from({ length }, () => (state = (state * 1103515245 + 12345) >>> 0) >>> 24);
}

test('encodePng round-trips RGB, RGBA, gray and gray+alpha pixels through decodePng', () => {
  for (const channels of [1, 2, 3, 4] as const) {
    for (const [width, height] of [
      [1, 1],
      [7, 3],
      [32, 32],
      [13, 40],
    ] as const) {
      // Mix smooth gradients (where prediction filters win) and noise (where None wins).
      const pixels = new Uint8Array(width * height * channels);
      const noise = pseudoRandomPixels(pixels.length, width * 31 + height);
      for (let i = 0; i < pixels.length; i++)
        pixels[i] = Math.floor(i / channels) % 3 === 0 ? noise[i]! : (i * 3) & 0xff;
      const png = encodePng(pixels, width, height, channels);
      assert.ok(isPng(png));
      const decoded = decodePng(png);
      assert.deepEqual([decoded.width, decoded.height, decoded.channels], [width, height, channels]);
      assert.deepEqual(decoded.pixels, pixels, `${width}×${height}×${channels}`);
    }
  }
});

test('encodePng writes valid chunks: signature, IHDR, IDAT, IEND with correct CRCs', () => {
  const png = encodePng(new Uint8Array(4 * 4 * 4).fill(200), 4, 4);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const types: string[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    types.push(type);
    // Check each chunk's CRC-32 against a bitwise reference.
    let crc = 0xffffffff;
    for (const byte of png.subarray(at + 4, at + 8 + length)) {
      crc ^= byte;
      for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
    }
    assert.equal(png.readUInt32BE(at + 8 + length), (crc ^ 0xffffffff) >>> 0, `${type} CRC`);
    if (type === 'IDAT') assert.equal(inflateSync(png.subarray(at + 8, at + 8 + length)).length, 4 * (4 * 4 + 1));
    at += 12 + length;
  }
  assert.deepEqual(types, ['IHDR', 'IDAT', 'IEND']);
  assert.deepEqual(readPngHeader(png), { width: 4, height: 4, bitDepth: 8, colorType: 6 });
});

test('decodePng reads the PNGs TensorBoard wrote in the fixture', { skip: needs('shared') }, () => {
  const pngs = fixture.records.filter((r) => r.png_base64).map((r) => Buffer.from(r.png_base64!, 'base64'));
  assert.equal(pngs.length, 2);
  const sizes = pngs.map((png) => decodePng(png)).map((d) => [d.width, d.height, d.channels, d.pixels.length]);
  assert.deepEqual(sizes, [
    [8, 6, 3, 144],
    [4, 3, 3, 36],
  ]);
  // Re-encoding the decoded pixels gives a different byte stream but the same image.
  const first = decodePng(pngs[0]!);
  assert.deepEqual(decodePng(encodePng(first.pixels, 8, 6, 3)).pixels, first.pixels);
});

test('isPng and decodePng refuse other bytes', () => {
  assert.equal(isPng(Buffer.from('GIF89a')), false);
  assert.equal(isPng(new Uint8Array(100)), false);
  assert.throws(
    () => decodePng(Buffer.from('not a png'), 'frame.png'),
    (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /^frame\.png: not a PNG file/);
      return true;
    },
  );
  assert.throws(() => encodePng(new Uint8Array(5), 2, 2, 3), RangeError);
});
