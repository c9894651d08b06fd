/**
 * The projector's sprite: every validation image as a 32 × 32 tile in one square PNG, filled row
 * by row from the top left (formats.md §4), so TensorBoard's projector shows real thumbnails.
 */
import { createCanvas } from '@napi-rs/canvas';
import { UserError } from '../errors.ts';

export interface SpriteOptions {
  /** NHWC RGB images, `count × tile × tile × 3`. */
  images: Uint8Array;
  /** Which images, in point order; all of them when omitted. */
  indices?: ArrayLike<number>;
  /** Side of one image in pixels (CIFAR: 32). */
  tile?: number;
}

export interface Sprite {
  rgba: Uint8Array;
  /** Width and height of the whole sprite (it is square). */
  size: number;
  tile: number;
  /** Tiles per row. */
  columns: number;
}

/** The projector refuses sprites above 8192 × 8192 pixels. */
export const MAX_SPRITE_SIZE = 8192;

/** Lays the tiles out in RGBA; unused tiles at the end stay transparent. */
export function buildSprite({ images, indices, tile = 32 }: SpriteOptions): Sprite {
  const pixelsPerImage = tile * tile * 3;
  const available = Math.floor(images.length / pixelsPerImage);
  const order = indices ?? Array.from({ length: available }, (_, i) => i);
  const count = order.length;
  const columns = Math.max(1, Math.ceil(Math.sqrt(count)));
  const size = columns * tile;
  if (size > MAX_SPRITE_SIZE) {
    throw new UserError(
      `sprite of ${count} images would be ${size} pixels wide; the projector shows at most ${MAX_SPRITE_SIZE} (${(MAX_SPRITE_SIZE / tile) ** 2} images): use a smaller --val-size`,
    );
  }
  const rgba = new Uint8Array(size * size * 4);
  for (let k = 0; k < count; k++) {
    const image = order[k]!;
    if (!(image >= 0 && image < available)) {
      throw new Error(`buildSprite: image index ${image} outside 0..${available - 1}`);
    }
    const originX = (k % columns) * tile;
    const originY = Math.floor(k / columns) * tile;
    let source = image * pixelsPerImage;
    for (let y = 0; y < tile; y++) {
      let target = ((originY + y) * size + originX) * 4;
      for (let x = 0; x < tile; x++) {
        rgba[target] = images[source]!;
        rgba[target + 1] = images[source + 1]!;
        rgba[target + 2] = images[source + 2]!;
        rgba[target + 3] = 255;
        target += 4;
        source += 3;
      }
    }
  }
  return { rgba, size, tile, columns };
}

/** The sprite as PNG bytes, ready for the projector's `sprite.image_path`. */
export function renderSprite(options: SpriteOptions): { png: Buffer; size: number; tile: number; columns: number } {
  const sprite = buildSprite(options);
  const canvas = createCanvas(sprite.size, sprite.size);
  const ctx = canvas.getContext('2d');
  const imageData = ctx.createImageData(sprite.size, sprite.size);
  imageData.data.set(sprite.rgba);
  ctx.putImageData(imageData, 0, 0);
  return { png: canvas.toBuffer('image/png'), size: sprite.size, tile: sprite.tile, columns: sprite.columns };
}
