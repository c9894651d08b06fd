/**
 * A projector sprite cut into one thumbnail per point. The sprite is one image holding every
 * point's tile (`single_image_dim` = width, height: not necessarily square, not necessarily
 * 32 px) in a grid filled row by row from the top left; PyTorch pads the grid with black tiles
 * to a square. Tile i is point i.
 */
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { UserError } from '../../../errors.ts';
import { decodePng, isDecodablePng } from '../../../tensorboard/png.ts';

export interface Thumbnails {
  /** NHWC RGB, `count × tileHeight × tileWidth × 3`. */
  pixels: Uint8Array;
  count: number;
  tileWidth: number;
  tileHeight: number;
}

interface Rgba {
  width: number;
  height: number;
  /** 1 to 4 channels per pixel. */
  channels: number;
  pixels: Uint8Array;
}

/**
 * Decodes the sprite: plain PNGs with our decoder, which refuses a truncated or corrupt one in one
 * line (Skia would hand back black pixels); other formats (palette, 16-bit, interlaced, JPEG) with Skia.
 */
async function decodeImage(bytes: Uint8Array, path: string): Promise<Rgba> {
  if (isDecodablePng(bytes)) return decodePng(bytes, `sprite ${path}`);
  let image;
  try {
    image = await loadImage(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw new UserError(
      `sprite ${path} is not an image this can read (${(error as Error).message}); ` +
        'write it as PNG or leave label_img out',
    );
  }
  const canvas = createCanvas(image.width, image.height);
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const data = context.getImageData(0, 0, image.width, image.height).data;
  return {
    width: image.width,
    height: image.height,
    channels: 4,
    pixels: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}

/** How many tiles of `tileWidth × tileHeight` the sprite has room for, row by row. */
export function spriteCapacity(width: number, height: number, tileWidth: number, tileHeight: number) {
  const perRow = Math.floor(width / tileWidth);
  const rows = Math.floor(height / tileHeight);
  return { perRow, rows, tiles: perRow * rows };
}

/**
 * Cuts `count` tiles out of the sprite in `bytes`. `tileSize` is the entry's `single_image_dim`;
 * without it the grid is taken to be PyTorch's square of ceil(sqrt(count)) tiles a side.
 */
export async function cutSprite(
  bytes: Uint8Array,
  count: number,
  tileSize: readonly number[] | undefined,
  path: string,
): Promise<Thumbnails> {
  const image = await decodeImage(bytes, path);
  let tileWidth: number;
  let tileHeight: number;
  if (tileSize !== undefined && tileSize.length >= 2) {
    [tileWidth, tileHeight] = tileSize as [number, number];
  } else {
    const side = Math.ceil(Math.sqrt(count));
    tileWidth = Math.floor(image.width / side);
    tileHeight = Math.floor(image.height / side);
  }
  if (!(tileWidth >= 1 && tileHeight >= 1 && Number.isInteger(tileWidth) && Number.isInteger(tileHeight))) {
    throw new UserError(
      `sprite ${path}: tile size ${tileWidth} × ${tileHeight} is not usable; set single_image_dim to the width and ` +
        'height of one thumbnail',
    );
  }
  const { perRow, tiles } = spriteCapacity(image.width, image.height, tileWidth, tileHeight);
  if (tiles < count) {
    throw new UserError(
      `sprite ${path} (${image.width} × ${image.height} px) has room for ${tiles} tiles of ${tileWidth} × ` +
        `${tileHeight} px but there are ${count} points; check single_image_dim`,
    );
  }
  const { channels, pixels: source } = image;
  const tilePixels = tileWidth * tileHeight;
  const pixels = new Uint8Array(count * tilePixels * 3);
  for (let t = 0; t < count; t++) {
    const left = (t % perRow) * tileWidth;
    const top = Math.floor(t / perRow) * tileHeight;
    for (let y = 0; y < tileHeight; y++) {
      for (let x = 0; x < tileWidth; x++) {
        const from = ((top + y) * image.width + left + x) * channels;
        const to = (t * tilePixels + y * tileWidth + x) * 3;
        if (channels < 3) {
          pixels[to] = pixels[to + 1] = pixels[to + 2] = source[from]!;
        } else {
          pixels[to] = source[from]!;
          pixels[to + 1] = source[from + 1]!;
          pixels[to + 2] = source[from + 2]!;
        }
      }
    }
  }
  return { pixels, count, tileWidth, tileHeight };
}
