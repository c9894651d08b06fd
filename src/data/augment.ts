/**
 * The seed's training augmentation, on typed arrays: random horizontal flip, random 32 × 32
 * crop from the image zero-padded by 4 pixels, random rotation within ±15° (bilinear, zero
 * fill), then scaling to [-1, 1]. "Zero" is a black pixel (byte 0), which becomes -1.
 *
 * The three geometric steps are folded into one inverse map from each output pixel to a point
 * of the original image, sampled once, so an image costs one pass and no temporary buffers.
 */
import type { Random } from '../util/random.ts';
import { IMAGE_SIZE } from './cifar-format.ts';
import { PIXEL_TO_UNIT } from './subset.ts';

export interface AugmentOptions {
  /** Random horizontal flip with probability 1/2. Default true. */
  flip?: boolean;
  /** Zero padding of the random crop in pixels; 0 disables cropping. Default 4. */
  padding?: number;
  /** Rotation drawn uniformly from ±this many degrees; 0 disables rotation. Default 15. */
  maxRotationDegrees?: number;
}

export const SEED_AUGMENTATION: Readonly<Required<AugmentOptions>> = { flip: true, padding: 4, maxRotationDegrees: 15 };
export const NO_AUGMENTATION: Readonly<Required<AugmentOptions>> = { flip: false, padding: 0, maxRotationDegrees: 0 };

/** The augmentation in words, as the run's options and checkpoints record it. */
export function describeAugmentation(options: Readonly<Required<AugmentOptions>>): string {
  const parts: string[] = [];
  if (options.flip) parts.push('flip');
  if (options.padding > 0) parts.push(`crop ${IMAGE_SIZE} from ${options.padding}-pixel padding`);
  if (options.maxRotationDegrees > 0) parts.push(`rotation ±${options.maxRotationDegrees}°`);
  const text = parts.length > 0 ? parts.join(', ') : 'none';
  return options === SEED_AUGMENTATION ? `${text} (seed)` : text;
}

/** One image's random draw. */
export interface ImageTransform {
  /** Mirror left–right (applied first). */
  flip: boolean;
  /**
   * The crop window's top-left corner relative to the (flipped) image, each in
   * [-padding, padding]: cropped(x, y) = flipped(x + cropX, y + cropY), black outside.
   */
  cropX: number;
  cropY: number;
  /**
   * Rotation of the cropped image about its centre, in degrees; positive turns the picture
   * counter-clockwise as seen on screen (torchvision's convention). Black where it leaves the frame.
   */
  angleDegrees: number;
}

export function identityTransform(): ImageTransform {
  return { flip: false, cropX: 0, cropY: 0, angleDegrees: 0 };
}

/** Fills `out` with a random transform; always draws the same four numbers, so streams stay aligned. */
export function drawTransform(random: Random, options: Required<AugmentOptions>, out: ImageTransform): ImageTransform {
  const flip = random.next() < 0.5;
  const cropX = random.int(2 * options.padding + 1) - options.padding;
  const cropY = random.int(2 * options.padding + 1) - options.padding;
  const angle = random.uniform(-options.maxRotationDegrees, options.maxRotationDegrees);
  out.flip = options.flip && flip;
  out.cropX = cropX;
  out.cropY = cropY;
  out.angleDegrees = angle;
  return out;
}

const LAST = IMAGE_SIZE - 1;
const CENTRE = LAST / 2;
/** Row stride of an NHWC 32 × 32 × 3 image. */
const ROW = IMAGE_SIZE * 3;

/**
 * Writes the transformed image `src[srcOffset … + 3072)` (NHWC bytes) to
 * `dst[dstOffset … + 3072)` as model input in [-1, 1].
 */
export function transformImage(
  src: Uint8Array,
  srcOffset: number,
  dst: Float32Array,
  dstOffset: number,
  t: ImageTransform,
): void {
  if (t.angleDegrees === 0) shiftImage(src, srcOffset, dst, dstOffset, t);
  else rotateImage(src, srcOffset, dst, dstOffset, t);
}

/** Flip and crop only: every output pixel is one source pixel or black, so no interpolation. */
function shiftImage(src: Uint8Array, srcOffset: number, dst: Float32Array, dstOffset: number, t: ImageTransform): void {
  const black = PIXEL_TO_UNIT[0];
  for (let y = 0; y < IMAGE_SIZE; y++) {
    const sy = y + t.cropY;
    let out = dstOffset + y * ROW;
    if (sy < 0 || sy > LAST) {
      dst.fill(black, out, out + ROW);
      continue;
    }
    const rowStart = srcOffset + sy * ROW;
    for (let x = 0; x < IMAGE_SIZE; x++, out += 3) {
      const fx = x + t.cropX;
      if (fx < 0 || fx > LAST) {
        dst[out] = black;
        dst[out + 1] = black;
        dst[out + 2] = black;
        continue;
      }
      const from = rowStart + (t.flip ? LAST - fx : fx) * 3;
      dst[out] = PIXEL_TO_UNIT[src[from]];
      dst[out + 1] = PIXEL_TO_UNIT[src[from + 1]];
      dst[out + 2] = PIXEL_TO_UNIT[src[from + 2]];
    }
  }
}

/**
 * The general case. Output pixel p maps back through the rotation (about the centre of the
 * pixel grid, 15.5), the crop shift and the flip to a point (ox, oy) of the original image,
 * sampled bilinearly; taps outside the image count as black. All three maps are affine, so
 * (ox, oy) moves by a constant step along a row.
 */
function rotateImage(
  src: Uint8Array,
  srcOffset: number,
  dst: Float32Array,
  dstOffset: number,
  t: ImageTransform,
): void {
  const radians = (t.angleDegrees * Math.PI) / 180;
  const cos = Math.cos(radians);
  const sin = Math.sin(radians);
  // In the cropped image (y down), a counter-clockwise turn sends source q to
  // p = c + [[cos, sin], [-sin, cos]](q - c), so q = c + [[cos, -sin], [sin, cos]](p - c).
  // Then the crop: f = q + crop; then the flip: o.x = 31 - f.x.
  const mirror = t.flip ? -1 : 1;
  const xOffset = t.flip ? LAST - (CENTRE + t.cropX) : CENTRE + t.cropX;
  const stepXx = mirror * cos; // d(ox)/d(px)
  const stepXy = mirror * -sin; // d(ox)/d(py)
  const stepYx = sin; // d(oy)/d(px)
  const stepYy = cos; // d(oy)/d(py)
  const yOffset = CENTRE + t.cropY;

  for (let py = 0; py < IMAGE_SIZE; py++) {
    const dy = py - CENTRE;
    let ox = xOffset + stepXx * -CENTRE + stepXy * dy;
    let oy = yOffset + stepYx * -CENTRE + stepYy * dy;
    let out = dstOffset + py * ROW;
    for (let px = 0; px < IMAGE_SIZE; px++, out += 3, ox += stepXx, oy += stepYx) {
      const x0 = Math.floor(ox);
      const y0 = Math.floor(oy);
      if (x0 < -1 || x0 > LAST || y0 < -1 || y0 > LAST) {
        dst[out] = -1;
        dst[out + 1] = -1;
        dst[out + 2] = -1;
        continue;
      }
      const wx = ox - x0;
      const wy = oy - y0;
      const w00 = (1 - wx) * (1 - wy);
      const w10 = wx * (1 - wy);
      const w01 = (1 - wx) * wy;
      const w11 = wx * wy;
      const inside = x0 >= 0 && x0 < LAST && y0 >= 0 && y0 < LAST;
      const p00 = srcOffset + y0 * ROW + x0 * 3;
      for (let c = 0; c < 3; c++) {
        let value: number;
        if (inside) {
          value = w00 * src[p00 + c] + w10 * src[p00 + 3 + c] + w01 * src[p00 + ROW + c] + w11 * src[p00 + ROW + 3 + c];
        } else {
          // At the border some taps fall outside and contribute black (0).
          value =
            (x0 >= 0 && y0 >= 0 ? w00 * src[p00 + c] : 0) +
            (x0 < LAST && y0 >= 0 ? w10 * src[p00 + 3 + c] : 0) +
            (x0 >= 0 && y0 < LAST ? w01 * src[p00 + ROW + c] : 0) +
            (x0 < LAST && y0 < LAST ? w11 * src[p00 + ROW + 3 + c] : 0);
        }
        dst[out + c] = value / 127.5 - 1;
      }
    }
  }
}
