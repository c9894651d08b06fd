/**
 * The projector's sprite: every validation image as a 32 × 32 tile in one square PNG, filled row
 * by row from the top left (formats.md §4), so TensorBoard's projector shows real thumbnails.
 * The layout and the PNG are the projector writer's (`src/tensorboard/`); this picks the images.
 */
import { UserError } from '../errors.ts';
import { encodePng } from '../tensorboard/png.ts';
import { layoutSprite } from '../tensorboard/projector.ts';

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

/** Lays the tiles out in RGBA, in `indices` order; unused tiles at the end stay transparent. */
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
  // The chosen images as opaque RGBA tiles; the projector writer lays them out.
  const tiles = new Uint8Array(count * tile * tile * 4);
  for (let k = 0; k < count; k++) {
    const image = order[k]!;
    if (!(image >= 0 && image < available)) {
      throw new Error(`buildSprite: image index ${image} outside 0..${available - 1}`);
    }
    let source = image * pixelsPerImage;
    for (let target = k * tile * tile * 4, end = target + tile * tile * 4; target < end; target += 4, source += 3) {
      tiles[target] = images[source]!;
      tiles[target + 1] = images[source + 1]!;
      tiles[target + 2] = images[source + 2]!;
      tiles[target + 3] = 255;
    }
  }
  if (count === 0) return { rgba: new Uint8Array(size * size * 4), size, tile, columns };
  const { image: rgba, grid } = layoutSprite(tiles, count, tile, tile);
  return { rgba, size: grid.width, tile, columns: grid.side };
}

/** The sprite as PNG bytes, ready for the projector's `sprite.image_path`. */
export function renderSprite(options: SpriteOptions): { png: Buffer; size: number; tile: number; columns: number } {
  const sprite = buildSprite(options);
  return { png: encodePng(sprite.rgba, sprite.size, sprite.size, 4), size: sprite.size, tile: sprite.tile, columns: sprite.columns };
}
