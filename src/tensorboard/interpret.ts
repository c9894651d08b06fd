/**
 * What TensorBoard makes of a Summary.Value: which dashboard shows it and the data it shows.
 * Understands both forms TensorBoard loads: the legacy fields (simple_value, image, histo) and
 * the tensor + plugin_name form. Used by `inspect` and the tests.
 */
import type { DataTypeName, SummaryValue, TensorProto } from './protos.ts';
import type { HistogramBucket } from './histogram.ts';

const utf8 = new TextDecoder();

/** The plugin (dashboard) of a value: its plugin_name, or the one its legacy field implies. */
export function pluginOf(value: SummaryValue): string | undefined {
  const named = value.metadata?.plugin_data?.plugin_name;
  if (named) return named;
  if (value.simple_value !== undefined) return 'scalars';
  if (value.image !== undefined) return 'images';
  if (value.histo !== undefined) return 'histograms';
  if (value.audio !== undefined) return 'audio';
  return undefined;
}

/** Element count of a tensor's shape (1 for a 0-d tensor). */
function elementCount(tensor: TensorProto): number {
  return (tensor.tensor_shape?.dim ?? []).reduce((n, dim) => n * (dim.size ?? 0), 1);
}

const BYTES_PER_ELEMENT: Partial<Record<DataTypeName, number>> = {
  DT_FLOAT: 4,
  DT_DOUBLE: 8,
  DT_INT32: 4,
  DT_INT64: 8,
};

/** The numbers of a numeric tensor, from `tensor_content` or the typed `*_val` field. */
export function tensorNumbers(tensor: TensorProto): number[] {
  const dtype = tensor.dtype ?? 'DT_INVALID';
  const content = tensor.tensor_content;
  if (content !== undefined && content.length > 0) {
    const width = BYTES_PER_ELEMENT[dtype];
    if (width === undefined) return [];
    const view = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
    const out: number[] = [];
    for (let at = 0; at + width <= view.length; at += width) {
      out.push(
        dtype === 'DT_FLOAT'
          ? view.readFloatLE(at)
          : dtype === 'DT_DOUBLE'
            ? view.readDoubleLE(at)
            : dtype === 'DT_INT32'
              ? view.readInt32LE(at)
              : Number(view.readBigInt64LE(at)),
      );
    }
    return out;
  }
  const values = tensor.float_val ?? tensor.double_val ?? tensor.int_val ?? tensor.int64_val ?? [];
  // A proto may store one value for a tensor of many identical elements.
  const count = elementCount(tensor);
  return values.length === 1 && count > 1 ? new Array<number>(count).fill(values[0]!) : values;
}

/** The scalar of a value, or undefined when it is not a scalar. */
export function scalarOf(value: SummaryValue): number | undefined {
  if (value.simple_value !== undefined) return value.simple_value;
  if (value.tensor !== undefined && pluginOf(value) === 'scalars') return tensorNumbers(value.tensor)[0];
  return undefined;
}

export interface SummaryPng {
  width: number;
  height: number;
  png: Uint8Array;
}

/** The images of a value (the tensor form may hold several), or [] when it is not an image. */
export function imagesOf(value: SummaryValue): SummaryPng[] {
  if (value.image?.encoded_image_string !== undefined) {
    return [{ width: value.image.width ?? 0, height: value.image.height ?? 0, png: value.image.encoded_image_string }];
  }
  if (value.tensor === undefined || pluginOf(value) !== 'images') return [];
  const strings = value.tensor.string_val ?? [];
  const width = Number(utf8.decode(strings[0] ?? new Uint8Array()));
  const height = Number(utf8.decode(strings[1] ?? new Uint8Array()));
  return strings.slice(2).map((png) => ({ width, height, png }));
}

/** The buckets of a histogram value, or undefined when it is not a histogram. */
export function histogramOf(value: SummaryValue): HistogramBucket[] | undefined {
  if (value.histo !== undefined) {
    const limits = value.histo.bucket_limit ?? [];
    const counts = value.histo.bucket ?? [];
    return limits.map((right, i) => ({
      left: i === 0 ? (value.histo!.min ?? right) : limits[i - 1]!,
      right,
      count: counts[i] ?? 0,
    }));
  }
  if (value.tensor === undefined || pluginOf(value) !== 'histograms') return undefined;
  const numbers = tensorNumbers(value.tensor);
  const buckets: HistogramBucket[] = [];
  for (let i = 0; i + 2 < numbers.length; i += 3)
    buckets.push({ left: numbers[i]!, right: numbers[i + 1]!, count: numbers[i + 2]! });
  return buckets;
}

/** The markdown of a text value, or undefined when it is not text. */
export function textOf(value: SummaryValue): string | undefined {
  if (value.tensor === undefined || pluginOf(value) !== 'text') return undefined;
  return (value.tensor.string_val ?? []).map((bytes) => utf8.decode(bytes)).join('\n');
}
