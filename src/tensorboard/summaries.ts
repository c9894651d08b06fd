/**
 * Builds Summary.Value messages in TensorBoard's own (tensor + plugin) form, exactly as
 * TensorBoard's Python summary ops write them: a scalar is a 0-d DT_FLOAT tensor for plugin
 * "scalars", an image a [width, height, png] DT_STRING tensor for "images", a histogram a [k, 3]
 * DT_DOUBLE tensor for "histograms", text a 0-d DT_STRING tensor for "text". Pure functions, no I/O.
 */
import { UserError } from '../errors.ts';
import type { HistogramBucket } from './histogram.ts';
import { encodePng, readPngHeader } from './png.ts';
import type { SummaryMetadata, SummaryValue } from './protos.ts';

export interface DisplayOptions {
  /** Shown as the card's title instead of the tag. */
  displayName?: string;
  /** Markdown shown under the card. */
  description?: string;
}

/** Raw pixels for `imageValue`: RGBA, row-major, `width * height * 4` bytes. */
export interface RgbaImage {
  rgba: Uint8Array;
  width: number;
  height: number;
}

const utf8 = new TextEncoder();

function metadata(pluginName: string, display: DisplayOptions = {}): SummaryMetadata {
  const result: SummaryMetadata = { plugin_data: { plugin_name: pluginName } };
  if (display.displayName) result.display_name = display.displayName;
  if (display.description) result.summary_description = display.description;
  return result;
}

/** A scalar. NaN and ±Infinity are kept as is (float32 holds them; TensorBoard loads them). */
export function scalarValue(tag: string, value: number, display?: DisplayOptions): SummaryValue {
  return {
    tag,
    tensor: { dtype: 'DT_FLOAT', tensor_shape: {}, float_val: [value] },
    metadata: metadata('scalars', display),
  };
}

/** A histogram from ready-made buckets; `histogram.ts` computes them from values. */
export function histogramValue(tag: string, buckets: HistogramBucket[], display?: DisplayOptions): SummaryValue {
  const content = Buffer.alloc(buckets.length * 3 * 8);
  buckets.forEach((bucket, i) => {
    content.writeDoubleLE(bucket.left, i * 24);
    content.writeDoubleLE(bucket.right, i * 24 + 8);
    content.writeDoubleLE(bucket.count, i * 24 + 16);
  });
  return {
    tag,
    tensor: {
      dtype: 'DT_DOUBLE',
      tensor_shape: { dim: [{ size: buckets.length }, { size: 3 }] },
      tensor_content: content,
    },
    metadata: metadata('histograms', display),
  };
}

/**
 * An image from PNG bytes or RGBA pixels (encoded here). Bytes that are not a PNG, or pixels
 * that do not match the size, are refused with a UserError.
 */
export function imageValue(tag: string, image: Uint8Array | RgbaImage, display?: DisplayOptions): SummaryValue {
  let png: Uint8Array;
  if (image instanceof Uint8Array) {
    png = image;
  } else {
    const { rgba, width, height } = image;
    if (
      !Number.isInteger(width) ||
      !Number.isInteger(height) ||
      width < 1 ||
      height < 1 ||
      rgba.length !== width * height * 4
    ) {
      throw new UserError(
        `image '${tag}': got ${rgba.length} bytes for ${width}×${height} RGBA (needs ${width * height * 4}); pass ` +
          `width × height × 4 bytes`,
      );
    }
    png = encodePng(rgba, width, height, 4);
  }
  const header = readPngHeader(png);
  if (header === undefined) {
    throw new UserError(
      `image '${tag}': the bytes are not a PNG (no PNG signature and IHDR); pass PNG bytes or {rgba, width, height}`,
    );
  }
  return {
    tag,
    tensor: {
      dtype: 'DT_STRING',
      tensor_shape: { dim: [{ size: 3 }] },
      string_val: [utf8.encode(String(header.width)), utf8.encode(String(header.height)), png],
    },
    metadata: metadata('images', display),
  };
}

/** Markdown text (tables render in TensorBoard's text dashboard). */
export function textValue(tag: string, markdown: string, display?: DisplayOptions): SummaryValue {
  return {
    tag,
    tensor: { dtype: 'DT_STRING', tensor_shape: {}, string_val: [utf8.encode(markdown)] },
    metadata: metadata('text', display),
  };
}
