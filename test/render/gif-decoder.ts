/**
 * A small GIF decoder for the tests: walks the file with our own `parseGif`, then LZW-decodes
 * each frame's pixels independently of the encoder (gifenc) that wrote them, and draws each frame
 * onto the screen as a viewer does: at its place, over what the frames before it left there.
 */
import { parseGif, type GifInfo } from '../../src/render/gif.ts';

export interface DecodedFrame {
  step: number | null;
  delayMs: number;
  /** The whole screen once this frame is drawn: palette indices, row by row. */
  indices: Uint8Array;
  /** The rectangle the frame itself covers. */
  region: { left: number; top: number; width: number; height: number };
}

function lzwDecode(minCodeSize: number, data: Uint8Array, pixelCount: number): Uint8Array {
  const out = new Uint8Array(pixelCount);
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  let codeSize = minCodeSize + 1;
  const prefix = new Int32Array(4096);
  const suffix = new Uint8Array(4096);
  const first = new Uint8Array(4096);
  const length = new Int32Array(4096);
  const reset = () => {
    for (let k = 0; k < clear; k++) {
      prefix[k] = -1;
      suffix[k] = k;
      first[k] = k;
      length[k] = 1;
    }
  };
  reset();
  let next = end + 1;
  let previous = -1;
  let written = 0;
  let bitBuffer = 0;
  let bitCount = 0;
  const emit = (code: number) => {
    const n = length[code]!;
    let at = written + n - 1;
    for (let c = code; c >= 0; c = prefix[c]!) {
      if (at < pixelCount) out[at] = suffix[c]!;
      at--;
    }
    written += n;
  };
  for (let i = 0; i < data.length && written < pixelCount; i++) {
    bitBuffer |= data[i]! << bitCount;
    bitCount += 8;
    while (bitCount >= codeSize) {
      const code = bitBuffer & ((1 << codeSize) - 1);
      bitBuffer >>>= codeSize;
      bitCount -= codeSize;
      if (code === clear) {
        codeSize = minCodeSize + 1;
        next = end + 1;
        previous = -1;
        continue;
      }
      if (code === end) return out;
      if (previous === -1) {
        emit(code);
        previous = code;
        continue;
      }
      const known = code < next;
      const firstOfNew = known ? first[code]! : first[previous]!;
      if (next < 4096) {
        prefix[next] = previous;
        suffix[next] = firstOfNew;
        first[next] = first[previous]!;
        length[next] = length[previous]! + 1;
        next++;
        if (next === 1 << codeSize && codeSize < 12) codeSize++;
      }
      emit(known ? code : next - 1);
      previous = code;
    }
  }
  return out;
}

export function decodeGif(bytes: Uint8Array): GifInfo & { decoded: DecodedFrame[] } {
  const info = parseGif(bytes);
  const decoded: DecodedFrame[] = [];
  const screen = new Uint8Array(info.width * info.height);
  for (const frame of info.frames) {
    // Find this frame's image descriptor: skip the extensions before it.
    let at = frame.offset;
    while (bytes[at] === 0x21) {
      at += 2;
      while (bytes[at] !== 0) at += bytes[at]! + 1;
      at += 1;
    }
    if (bytes[at] !== 0x2c) throw new Error(`no image descriptor at ${at}`);
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const left = view.getUint16(at + 1, true);
    const top = view.getUint16(at + 3, true);
    const width = view.getUint16(at + 5, true);
    const height = view.getUint16(at + 7, true);
    const fields = bytes[at + 9]!;
    at += 10;
    if (fields & 0x80) at += 3 * (2 << (fields & 7));
    const minCodeSize = bytes[at++]!;
    const chunks: number[] = [];
    while (bytes[at] !== 0) {
      chunks.push(...bytes.subarray(at + 1, at + 1 + bytes[at]!));
      at += bytes[at]! + 1;
    }
    if (left + width > info.width || top + height > info.height) throw new Error(`frame outside the screen at ${at}`);
    const pixels = lzwDecode(minCodeSize, Uint8Array.from(chunks), width * height);
    for (let y = 0; y < height; y++)
      screen.set(pixels.subarray(y * width, (y + 1) * width), (top + y) * info.width + left);
    decoded.push({
      step: frame.step,
      delayMs: frame.delayMs,
      indices: screen.slice(),
      region: { left, top, width, height },
    });
  }
  return { ...info, decoded };
}
