/**
 * CIFAR-10's binary layout (formats.md §5): records of 3,073 bytes, one label byte (0–9) then
 * 1,024 red, 1,024 green and 1,024 blue bytes, each plane row-major 32 × 32.
 * This module validates batch files and converts them, once, to the project's in-memory layout:
 * NHWC `Uint8Array` (pixel by pixel, RGB interleaved).
 */
import { UserError } from '../errors.ts';

export const IMAGE_SIZE = 32;
export const CHANNELS = 3;
const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
export const IMAGE_BYTES = PIXELS * CHANNELS;
export const RECORD_BYTES = 1 + IMAGE_BYTES;
export const NUM_CLASSES = 10;

export const OFFICIAL_CLASS_NAMES: readonly string[] = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

/** One split of the data set in memory. */
export interface Split {
  /** n × 32 × 32 × 3, RGB interleaved (NHWC). */
  images: Uint8Array;
  /** n labels, 0–9. */
  labels: Uint8Array;
  count: number;
}

/** A batch file's bytes, with the name to show the user when something is wrong with it. */
export interface BatchFile {
  /** e.g. `/data/cifar-10-batches-bin/test_batch.bin` or `archive.tar.gz (entry …/test_batch.bin)` */
  displayName: string;
  data: Uint8Array;
}

const REPLACE = 'replace it with a fresh copy of the CIFAR-10 binary version';

/** Number of records in a batch file of `size` bytes; one clear line when the size is impossible. */
function recordCount(displayName: string, size: number): number {
  if (size === 0) throw new UserError(`${displayName} is empty; ${REPLACE}`);
  if (size % RECORD_BYTES !== 0) {
    const whole = Math.floor(size / RECORD_BYTES);
    throw new UserError(
      `${displayName} is truncated or corrupt: its size ${size.toLocaleString('en-US')} bytes is not a multiple of ` +
        `the record size ${RECORD_BYTES} (${whole} whole records + ${size - whole * RECORD_BYTES} bytes); ${REPLACE}`,
    );
  }
  return size / RECORD_BYTES;
}

/**
 * Concatenates batch files into one split, converting planar records to NHWC and checking every
 * label. Files are taken in the order given.
 */
export function decodeBatches(files: readonly BatchFile[]): Split {
  let count = 0;
  for (const file of files) count += recordCount(file.displayName, file.data.length);
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  let image = 0;
  for (const file of files) {
    const records = file.data.length / RECORD_BYTES;
    decodeRecords(file, records, images, labels, image);
    image += records;
  }
  return { images, labels, count };
}

function decodeRecords(file: BatchFile, records: number, images: Uint8Array, labels: Uint8Array, first: number): void {
  const data = file.data;
  for (let record = 0; record < records; record++) {
    const start = record * RECORD_BYTES;
    const label = data[start];
    if (label >= NUM_CLASSES) {
      throw new UserError(
        `${file.displayName}: record ${record} (byte offset ${start.toLocaleString('en-US')}) has label ${label}, ` +
          `but CIFAR-10 labels are 0–9; the file is corrupt or not CIFAR-10; ${REPLACE}`,
      );
    }
    labels[first + record] = label;
    const red = start + 1;
    const green = red + PIXELS;
    const blue = green + PIXELS;
    let out = (first + record) * IMAGE_BYTES;
    for (let pixel = 0; pixel < PIXELS; pixel++) {
      images[out] = data[red + pixel];
      images[out + 1] = data[green + pixel];
      images[out + 2] = data[blue + pixel];
      out += 3;
    }
  }
}

/**
 * Class names from `batches.meta.txt` (one per line). Falls back to the official ten, with a
 * note through `log`, when the file is missing or does not hold exactly ten names.
 */
export function parseClassNames(text: string | undefined, displayName: string, log: (line: string) => void): string[] {
  if (text === undefined) {
    log(`note: ${displayName} not found; using the official CIFAR-10 class names`);
    return [...OFFICIAL_CLASS_NAMES];
  }
  const names = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  if (names.length !== NUM_CLASSES) {
    log(
      `note: ${displayName} holds ${names.length} class names, expected ${NUM_CLASSES}; using the official CIFAR-10 ` +
        `class names`,
    );
    return [...OFFICIAL_CLASS_NAMES];
  }
  return names;
}

/** File names the loader cares about. */
export const TEST_BATCH = 'test_batch.bin';
export const META_FILE = 'batches.meta.txt';
const TRAIN_BATCH = /^data_batch_(\d+)\.bin$/;

/** The batch number of a `data_batch_N.bin` name, or undefined for any other name. */
export function trainBatchNumber(fileName: string): number | undefined {
  const match = TRAIN_BATCH.exec(fileName);
  return match ? Number(match[1]) : undefined;
}

export function isWantedFile(fileName: string): boolean {
  return fileName === TEST_BATCH || fileName === META_FILE || trainBatchNumber(fileName) !== undefined;
}
