/**
 * The animated GIF of a run, grown one frame at a time.
 *
 * Every frame uses the same global colour table (`GIF_PALETTE`), so appending a frame means:
 * keep the file's bytes up to its trailer, add the new frame's blocks, add the trailer again.
 * Earlier frames are never decoded or re-encoded. Each frame is preceded by a comment extension
 * `embedding-timelapse step=<step>`, which makes appending idempotent: a watcher restarted after
 * a crash sees which steps the file already holds. The file is replaced atomically, so a viewer
 * (or a crash) only ever sees a whole GIF.
 *
 * Tween frames (`watch --gif-tween K`: points gliding from one checkpoint's frame to the next)
 * carry `embedding-timelapse tween=<k>/<K> step=<step>` instead: the k-th of K frames leading to
 * `step`. They are appended in the same atomic write as the frame of `step` itself, so a file
 * holds either all of a step's tweens and its frame or none of them: a restarted watcher neither
 * duplicates nor loses one.
 *
 * A picture after the first of a writer covers only the rectangle in which it differs from the
 * picture before it (`changedRegion`; the rest stays on screen, disposal 1), as gifsicle's -O1
 * does: an in-between picture differs only inside the axes. The first picture a writer appends
 * to a file, and any picture after the file changed behind its back, is written whole.
 */
import { readFile } from 'node:fs/promises';
import gifenc from 'gifenc';
import { UserError, describeFsError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { GIF_PALETTE, indexPixels, type Rgb } from './palette.ts';
import type { RgbaImage } from './scatter.ts';
import { concatBytes } from '../util/bytes.ts';

// gifenc ships CommonJS only: its functions hang off the default export under Node.
const { GIFEncoder } = gifenc;

const TRAILER = 0x3b;
const STEP_COMMENT = 'embedding-timelapse step=';
const TWEEN_COMMENT = /^embedding-timelapse tween=(\d+)\/(\d+) step=(\d+)$/;

export interface GifFrameInfo {
  /** The training step written in the frame's comment, or null for frames written by others. */
  step: number | null;
  /** For a tween frame: it is the `index`-th of `count` frames leading to the frame of `step`. */
  tween?: { step: number; index: number; count: number };
  /** Delay before the next frame, in milliseconds. */
  delayMs: number;
  /** Byte offset of the frame's first block (comment or graphic control). */
  offset: number;
}

export interface GifInfo {
  width: number;
  height: number;
  /** The global colour table, or null when the file has none. */
  palette: Rgb[] | null;
  /** Loop count from the NETSCAPE2.0 extension (0 = forever), or null when absent. */
  loopCount: number | null;
  frames: GifFrameInfo[];
  /** Offset of the trailer byte. */
  trailerOffset: number;
}

/**
 * Walks a GIF's blocks (without decoding pixels). Throws a one-line error naming the byte offset
 * when the file is not a complete GIF.
 */
export function parseGif(bytes: Uint8Array, name = 'GIF'): GifInfo {
  const fail = (offset: number, what: string): never => {
    throw new UserError(
      `${name} is not a complete GIF (${what} at byte ${offset}); delete it and the watcher starts a new one`,
    );
  };
  const signature = Buffer.from(bytes.subarray(0, 6)).toString('latin1');
  if (signature !== 'GIF89a' && signature !== 'GIF87a') fail(0, 'no GIF signature');
  if (bytes.length < 13) fail(6, 'truncated header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint16(6, true);
  const height = view.getUint16(8, true);
  const fields = bytes[10]!;
  let offset = 13;
  let palette: Rgb[] | null = null;
  if (fields & 0x80) {
    const entries = 2 << (fields & 7);
    if (offset + 3 * entries > bytes.length) fail(offset, 'truncated colour table');
    palette = [];
    for (let k = 0; k < entries; k++)
      palette.push([bytes[offset + 3 * k]!, bytes[offset + 3 * k + 1]!, bytes[offset + 3 * k + 2]!]);
    offset += 3 * entries;
  }

  // Sub-blocks: a length byte then that many bytes, ended by a zero length. An extension's first
  // 256 bytes are kept (its fields); an image's pixels are only skipped.
  const skipSubBlocks = (start: number, keep = true): { end: number; data: number[] } => {
    let at = start;
    const data: number[] = [];
    for (;;) {
      if (at >= bytes.length) fail(at, 'truncated data');
      const length = bytes[at]!;
      if (length === 0) return { end: at + 1, data };
      if (at + 1 + length > bytes.length) fail(at, 'truncated data');
      if (keep && data.length < 256) data.push(...bytes.subarray(at + 1, at + 1 + length));
      at += 1 + length;
    }
  };

  const frames: GifFrameInfo[] = [];
  let loopCount: number | null = null;
  let pendingStep: number | null = null;
  let pendingTween: GifFrameInfo['tween'];
  let pendingDelay = 0;
  let frameStart = -1;
  for (;;) {
    if (offset >= bytes.length) fail(offset, 'no trailer');
    const introducer = bytes[offset]!;
    if (introducer === TRAILER) {
      return { width, height, palette, loopCount, frames, trailerOffset: offset };
    }
    if (frameStart < 0) frameStart = offset;
    if (introducer === 0x21) {
      const label = bytes[offset + 1];
      const { end, data } = skipSubBlocks(offset + 2);
      if (label === 0xf9 && data.length >= 3) {
        pendingDelay = (data[1]! | (data[2]! << 8)) * 10;
      } else if (label === 0xfe) {
        const text = Buffer.from(data).toString('latin1');
        const tween = TWEEN_COMMENT.exec(text);
        if (tween) pendingTween = { index: Number(tween[1]), count: Number(tween[2]), step: Number(tween[3]) };
        else if (text.startsWith(STEP_COMMENT)) pendingStep = Number(text.slice(STEP_COMMENT.length));
      } else if (label === 0xff) {
        const id = Buffer.from(data.slice(0, 11)).toString('latin1');
        if (id === 'NETSCAPE2.0' && data.length >= 14) loopCount = data[12]! | (data[13]! << 8);
        frameStart = -1; // application extensions belong to the file, not to a frame
      }
      offset = end;
    } else if (introducer === 0x2c) {
      if (offset + 10 > bytes.length) fail(offset, 'truncated image descriptor');
      const imageFields = bytes[offset + 9]!;
      offset += 10;
      if (imageFields & 0x80) offset += 3 * (2 << (imageFields & 7));
      offset += 1; // LZW minimum code size
      offset = skipSubBlocks(offset, false).end;
      const tween = pendingTween ? { tween: pendingTween } : {};
      frames.push({ step: pendingStep, delayMs: pendingDelay, offset: frameStart, ...tween });
      pendingStep = null;
      pendingTween = undefined;
      pendingDelay = 0;
      frameStart = -1;
    } else {
      fail(offset, `unknown block 0x${introducer.toString(16)}`);
    }
  }
}

function header(width: number, height: number, palette: readonly Rgb[]): Uint8Array {
  const tableBits = Math.log2(palette.length);
  if (!Number.isInteger(tableBits) || tableBits < 1 || tableBits > 8) {
    throw new Error(`GIF palette must hold 2, 4, …, 256 colours, not ${palette.length}`);
  }
  const bytes: number[] = [...Buffer.from('GIF89a', 'latin1')];
  bytes.push(width & 0xff, width >> 8, height & 0xff, height >> 8);
  bytes.push(0x80 | ((tableBits - 1) << 4) | (tableBits - 1), 0, 0);
  for (const [r, g, b] of palette) bytes.push(r, g, b);
  // NETSCAPE2.0 application extension: loop forever.
  bytes.push(0x21, 0xff, 11, ...Buffer.from('NETSCAPE2.0', 'latin1'), 3, 1, 0, 0, 0);
  return Uint8Array.from(bytes);
}

function comment(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'latin1');
  return Uint8Array.from([0x21, 0xfe, bytes.length, ...bytes, 0]);
}

/** Which frame this is: the frame of a step, or the index-th of count tweens leading to it. */
export type GifFrameLabel = { step: number; tween?: { index: number; count: number } };

function frameComment({ step, tween }: GifFrameLabel): Uint8Array {
  if (!tween) return comment(`${STEP_COMMENT}${step}`);
  return comment(`embedding-timelapse tween=${tween.index}/${tween.count} step=${step}`);
}

/** A rectangle of the picture, in pixels. */
export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

function wholePicture(image: RgbaImage): Region {
  return { left: 0, top: 0, width: image.width, height: image.height };
}

/** The pixels as 32-bit words (one per pixel), a view where the bytes allow one. */
function pixelWords(image: RgbaImage): Uint32Array {
  const { rgba } = image;
  if (rgba.byteOffset % 4 === 0) return new Uint32Array(rgba.buffer, rgba.byteOffset, rgba.length / 4);
  return new Uint32Array(Uint8Array.from(rgba).buffer);
}

/**
 * The smallest rectangle that holds every pixel in which `next` differs from `previous` (the
 * same size); 1 × 1 at the corner when none does, since a GIF frame holds at least one pixel.
 */
export function changedRegion(previous: RgbaImage, next: RgbaImage): Region {
  const { width, height } = next;
  const before = pixelWords(previous);
  const after = pixelWords(next);
  let top = height;
  let bottom = -1;
  let left = width;
  let right = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    let x = 0;
    while (x < width && before[row + x] === after[row + x]) x++;
    if (x === width) continue;
    let last = width - 1;
    while (before[row + last] === after[row + last]) last--;
    if (top === height) top = y;
    bottom = y;
    if (x < left) left = x;
    if (last > right) right = last;
  }
  if (bottom < 0) return { left: 0, top: 0, width: 1, height: 1 };
  return { left, top, width: right - left + 1, height: bottom - top + 1 };
}

/** The RGBA bytes of `region`, row by row. */
function cropRgba(image: RgbaImage, region: Region): Uint8Array {
  if (region.width === image.width && region.height === image.height) return image.rgba;
  const out = new Uint8Array(4 * region.width * region.height);
  for (let y = 0; y < region.height; y++) {
    const from = 4 * ((region.top + y) * image.width + region.left);
    out.set(image.rgba.subarray(from, from + 4 * region.width), 4 * y * region.width);
  }
  return out;
}

/**
 * One frame's blocks: step comment, graphic control, image descriptor, LZW data; the frame covers
 * `region` of the picture (default: all of it).
 */
export function encodeGifFrame(
  image: RgbaImage,
  label: number | GifFrameLabel,
  delayMs: number,
  palette: readonly Rgb[] = GIF_PALETTE,
  region: Region = wholePicture(image),
): Uint8Array {
  const indices = indexPixels(cropRgba(image, region), palette);
  const encoder = GIFEncoder({ auto: false });
  // first: false and no palette: gifenc writes only the graphic control extension, the image
  // descriptor (using the global table) and the LZW data. dispose 1 = leave the frame in place.
  encoder.writeFrame(indices, region.width, region.height, {
    first: false,
    delay: delayMs,
    dispose: 1,
    colorDepth: Math.max(2, Math.log2(palette.length)),
  });
  const blocks = encoder.bytes();
  placeImage(blocks, region);
  return concatBytes([frameComment(typeof label === 'number' ? { step: label } : label), blocks]);
}

/**
 * Sets the image descriptor's left and top, which gifenc always writes as 0. Its descriptor
 * follows the 8-byte graphic control extension.
 */
function placeImage(blocks: Uint8Array, region: Region): void {
  const at = 8;
  if (blocks[0] !== 0x21 || blocks[1] !== 0xf9 || blocks[at] !== 0x2c) {
    throw new Error('gifenc wrote an unexpected block layout: no image descriptor after the graphic control');
  }
  const view = new DataView(blocks.buffer, blocks.byteOffset, blocks.byteLength);
  view.setUint16(at + 1, region.left, true);
  view.setUint16(at + 3, region.top, true);
}

export interface GifWriterOptions {
  /** Time each frame stays, in milliseconds (GIF stores hundredths of a second). */
  delayMs?: number;
  /** Time each tween frame stays (default 50 ms; browsers slow down anything under 20 ms). */
  tweenDelayMs?: number;
  palette?: readonly Rgb[];
}

export type AppendResult = 'appended' | 'already-present';

/** Appends frames to one GIF file; see the module comment for how. */
export class GifWriter {
  readonly path: string;
  readonly delayMs: number;
  readonly tweenDelayMs: number;
  readonly palette: readonly Rgb[];
  /** The last picture this writer appended, and the length of the file it wrote then. */
  private last: { image: RgbaImage; fileLength: number } | undefined;

  constructor(path: string, options: GifWriterOptions = {}) {
    this.path = path;
    this.delayMs = options.delayMs ?? 300;
    this.tweenDelayMs = options.tweenDelayMs ?? 50;
    this.palette = options.palette ?? GIF_PALETTE;
  }

  private async readExisting(): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new UserError(describeFsError(error, 'read', this.path));
    }
  }

  /** The steps of the frames the file holds now, tweens left out (empty when there is no file yet). */
  async steps(): Promise<number[]> {
    const bytes = await this.readExisting();
    if (bytes === null) return [];
    return parseGif(bytes, this.path)
      .frames.filter((frame) => !frame.tween)
      .map((frame) => frame.step ?? -1);
  }

  /**
   * Adds `image` as the frame for `step`, after `tweens` (the frames gliding towards it from the
   * previous step), all in one atomic write. A step at or below the file's last step is already
   * there (a restarted watcher redoing its last frame) and is left alone, tweens included.
   */
  async append(image: RgbaImage, step: number, tweens: readonly RgbaImage[] = []): Promise<AppendResult> {
    const existing = await this.readExisting();
    let prefix: Uint8Array;
    // Frames index the file's own colour table: a file begun with other colours keeps its table.
    let palette: readonly Rgb[] = this.palette;
    if (existing === null) {
      prefix = header(image.width, image.height, this.palette);
    } else {
      const info = parseGif(existing, this.path);
      const lastFrame = info.frames.at(-1);
      const last = lastFrame?.step ?? lastFrame?.tween?.step ?? null;
      if (last !== null && step <= last) return 'already-present';
      if (info.width !== image.width || info.height !== image.height) {
        throw new UserError(
          `${this.path} holds ${info.width}×${info.height} frames, the new frame is ${image.width}×${image.height}; ` +
            `move the old GIF away to start a new one`,
        );
      }
      prefix = existing.subarray(0, info.trailerOffset);
      if (info.palette) palette = info.palette;
    }
    // The picture on screen at the file's end, when this writer knows it: the file is still as it left it.
    let previous = existing !== null && existing.length === this.last?.fileLength ? this.last.image : undefined;
    const count = tweens.length;
    const pictures = [...tweens, image];
    const blocks = pictures.map((picture, k) => {
      const region = previous ? changedRegion(previous, picture) : wholePicture(picture);
      previous = picture;
      return k < count
        ? encodeGifFrame(picture, { step, tween: { index: k + 1, count } }, this.tweenDelayMs, palette, region)
        : encodeGifFrame(picture, step, this.delayMs, palette, region);
    });
    const bytes = concatBytes([prefix, ...blocks, Uint8Array.of(TRAILER)]);
    await writeFileAtomic(this.path, bytes);
    this.last = { image, fileLength: bytes.length };
    return 'appended';
  }
}
