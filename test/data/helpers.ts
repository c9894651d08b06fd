/**
 * Synthetic CIFAR-10 files in the official binary layout, and a minimal ustar writer, so the
 * loader can be tested on small inputs whose every byte is known.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const RECORD = 3073;

/** The pixel byte the synthetic data holds for (record, channel, pixel), distinct enough to catch layout mistakes. */
export function syntheticPixel(seedOffset: number, record: number, channel: number, pixel: number): number {
  return (seedOffset * 31 + record * 7 + channel * 85 + pixel * 3 + (pixel >> 5)) % 256;
}

/** A batch file: for each label, one record whose planes hold `syntheticPixel(seedOffset, …)`. */
export function batchFile(labels: readonly number[], seedOffset = 0): Buffer {
  const data = Buffer.alloc(labels.length * RECORD);
  labels.forEach((label, record) => {
    const start = record * RECORD;
    data[start] = label;
    for (let channel = 0; channel < 3; channel++) {
      for (let pixel = 0; pixel < 1024; pixel++) {
        data[start + 1 + channel * 1024 + pixel] = syntheticPixel(seedOffset, record, channel, pixel);
      }
    }
  });
  return data;
}

export const META_TEXT = 'plane\ncar\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n';

export interface SyntheticFiles {
  [name: string]: Buffer | string;
}

/** The standard small set: data_batch_1 (12 records), data_batch_3 (8), test_batch (10), meta. */
export function standardFiles(): SyntheticFiles {
  return {
    'data_batch_1.bin': batchFile([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1], 1),
    'data_batch_3.bin': batchFile([9, 8, 7, 6, 5, 4, 3, 2], 3),
    'test_batch.bin': batchFile([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 7),
    'batches.meta.txt': META_TEXT,
  };
}

export async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'et-data-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes `files` into `dir/sub` (or `dir` when sub is empty). */
export async function writeFiles(dir: string, files: SyntheticFiles, sub = 'cifar-10-batches-bin'): Promise<string> {
  const target = sub ? join(dir, sub) : dir;
  await mkdir(target, { recursive: true });
  for (const [name, data] of Object.entries(files)) await writeFile(join(target, name), data);
  return target;
}

/** A ustar archive of `files` under `prefix/`, ending with the two zero blocks. */
export function tarArchive(files: SyntheticFiles, prefix = 'cifar-10-batches-bin'): Buffer {
  const parts: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = typeof content === 'string' ? Buffer.from(content) : content;
    parts.push(tarHeader(prefix ? `${prefix}/${name}` : name, data.length, '0'));
    parts.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function tarHeader(name: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.write(type, 156, 'latin1');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}
