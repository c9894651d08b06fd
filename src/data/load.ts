/**
 * Loads CIFAR-10 from a directory (holding `cifar-10-batches-bin/` or the `.bin` files
 * themselves) or straight from the `.tar.gz` archive, streamed through gunzip and tar-stream
 * without extracting anything to disk. Reads whichever `data_batch_*.bin` files are present.
 */
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { UserError, describeFsError } from '../errors.ts';
import {
  META_FILE,
  TEST_BATCH,
  decodeBatches,
  isWantedFile,
  parseClassNames,
  trainBatchNumber,
  type BatchFile,
  type Split,
} from './cifar-format.ts';
import { downloadCifar10, type DownloadOptions } from './download.ts';
import { DEFAULT_CACHE_DIR, isCachedArchive } from './source.ts';

export interface Cifar10 {
  train: Split;
  test: Split;
  classNames: string[];
  /** The training batch files read, in order (e.g. `['data_batch_1.bin', 'data_batch_2.bin']`). */
  trainFiles: string[];
}

export interface LoadOptions {
  /** Receives the one-line summary and notes; default: a line on stderr. */
  log?: (line: string) => void;
  /** `'test'` skips the training batches (the watcher needs only the test set). Default `'all'`. */
  splits?: 'all' | 'test';
  /** Used when `source` is the cache's archive path and it is missing. */
  download?: DownloadOptions;
  /** The cache directory `source` is compared with (default: the project's `.cache/cifar10/`). */
  cacheDir?: string;
}

/** The files found in a source, before decoding. */
interface Found {
  train: Map<number, BatchFile & { fileName: string }>;
  test?: BatchFile;
  metaText?: string;
}

const POINT_AT =
  'point --data (or CIFAR10_PATH) at cifar-10-binary.tar.gz or at a folder holding cifar-10-batches-bin/ or the ' +
  '.bin files';

export async function loadCifar10(source: string, options: LoadOptions = {}): Promise<Cifar10> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const includeTrain = (options.splits ?? 'all') === 'all';
  const started = performance.now();

  let info = await statOrUndefined(source);
  if (!info && isCachedArchive(source, options.cacheDir ?? DEFAULT_CACHE_DIR)) {
    await downloadCifar10(source, options.download);
    info = await statOrUndefined(source);
  }
  if (!info) throw new UserError(`CIFAR-10 data not found at ${source}: it does not exist; ${POINT_AT}`);

  try {
    return await readSource(source, info.isDirectory(), includeTrain, log, started);
  } catch (error) {
    if (error instanceof UserError && isCachedArchive(source, options.cacheDir ?? DEFAULT_CACHE_DIR)) {
      throw new UserError(
        `${error.message} (this is the downloaded copy: delete it and run again to download it afresh)`,
      );
    }
    throw error;
  }
}

async function readSource(
  source: string,
  isDirectory: boolean,
  includeTrain: boolean,
  log: (line: string) => void,
  started: number,
): Promise<Cifar10> {
  const found = isDirectory ? await readDirectory(source, includeTrain) : await readArchive(source, includeTrain);
  if (!found.test) {
    throw new UserError(`${source} has no ${TEST_BATCH}: the CIFAR-10 data is incomplete; ${POINT_AT}`);
  }
  const trainNumbers = [...found.train.keys()].sort((a, b) => a - b);
  if (includeTrain && trainNumbers.length === 0) {
    throw new UserError(`${source} has no training batch (data_batch_*.bin); ${POINT_AT}`);
  }
  const trainBatches = trainNumbers.map((n) => found.train.get(n)!);
  const train = decodeBatches(trainBatches);
  const test = decodeBatches([found.test]);
  const classNames = parseClassNames(found.metaText, `${META_FILE} in ${source}`, log);
  const trainFiles = trainBatches.map((batch) => batch.fileName);

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const trainPart = includeTrain
    ? `${trainFiles.length} training batch file${trainFiles.length === 1 ? '' : 's'} (${trainFiles.join(', ')}, ` +
      `${train.count.toLocaleString('en-US')} images), `
    : 'training batches skipped, ';
  log(
    `CIFAR-10 from ${source}: ${trainPart}${TEST_BATCH} (${test.count.toLocaleString('en-US')} images) in ${seconds} s`,
  );
  return { train, test, classNames, trainFiles };
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(describeFsError(error, 'read', path));
  }
}

async function readDirectory(dir: string, includeTrain: boolean): Promise<Found> {
  const nested = join(dir, 'cifar-10-batches-bin');
  const base = (await statOrUndefined(nested))?.isDirectory() ? nested : dir;
  let names: string[];
  try {
    names = await readdir(base);
  } catch (error) {
    throw new UserError(describeFsError(error, 'read directory', base));
  }
  const found: Found = { train: new Map() };
  for (const name of names) {
    if (!isWantedFile(name)) continue;
    const path = join(base, name);
    const number = trainBatchNumber(name);
    if (number !== undefined && !includeTrain) continue;
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (error) {
      throw new UserError(describeFsError(error, 'read', path));
    }
    store(found, name, path, data);
  }
  return found;
}

function store(found: Found, fileName: string, displayName: string, data: Uint8Array): void {
  const number = trainBatchNumber(fileName);
  if (number !== undefined) found.train.set(number, { fileName, displayName, data });
  else if (fileName === TEST_BATCH) found.test = { displayName, data };
  else if (fileName === META_FILE)
    found.metaText = Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8');
}

/** A CIFAR-10 batch is 30,730,000 bytes; an entry claiming far more is damage, not data to allocate. */
const MAX_ENTRY_BYTES = 256 * 1024 * 1024;
const TAR_BLOCK = 512;

/** Reads a `.tar.gz` (or plain `.tar`) as a stream through tar-stream, keeping only the CIFAR-10 files. */
async function readArchive(path: string, includeTrain: boolean): Promise<Found> {
  const kind = await sniffArchive(path);
  const found: Found = { train: new Map() };
  // Where the reading stands, for the one line a damaged archive gets.
  let inside: { name: string; size: number; read: number } | undefined;
  let nextHeaderAt = 0;
  const extract = tarExtract();
  extract.on('entry', (header, stream, next) => {
    // A failure inside an entry reaches the pipeline through the extractor too.
    stream.on('error', () => undefined);
    const name = header.name.replace(/^(\.\/)+/, '');
    const fileName = basename(name);
    const wanted =
      (header.type === 'file' || header.type === 'contiguous-file') &&
      isWantedFile(fileName) &&
      (includeTrain || trainBatchNumber(fileName) === undefined);
    if (wanted && header.size > MAX_ENTRY_BYTES) {
      next(
        new UserError(
          `${path} (entry ${name}) claims ${header.size.toLocaleString('en-US')} bytes where a CIFAR-10 batch ` +
            'has 30,730,000: the archive is damaged; download it again',
        ),
      );
      return;
    }
    const data = wanted ? new Uint8Array(header.size) : undefined;
    const entry = { name, size: header.size, read: 0 };
    inside = entry;
    stream.on('data', (chunk: unknown) => {
      data?.set(chunk as Buffer, entry.read);
      entry.read += (chunk as Buffer).length;
    });
    stream.on('end', () => {
      if (data) store(found, fileName, `${path} (entry ${name})`, data);
      inside = undefined;
      nextHeaderAt = stream.offset + TAR_BLOCK + Math.ceil(header.size / TAR_BLOCK) * TAR_BLOCK;
      next();
    });
  });
  const input = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    if (kind === 'gzip') await pipeline(input, createGunzip({ chunkSize: 1 << 20 }), extract);
    else await pipeline(input, extract);
  } catch (error) {
    if (error instanceof UserError) throw error;
    const { code = '', message } = error as NodeJS.ErrnoException;
    if (code.startsWith('Z_')) {
      throw new UserError(
        `${path} is not a valid gzip file (${message} near compressed byte ` +
          `${input.bytesRead.toLocaleString('en-US')}): the archive is damaged; download it again`,
      );
    }
    if (code !== '') throw new UserError(describeFsError(error, 'read', path));
    // Everything else comes from the tar parser.
    if (message === 'Unexpected end of data') {
      const where = inside
        ? `inside entry ${inside.name} (after ${inside.read.toLocaleString('en-US')} of its ` +
          `${inside.size.toLocaleString('en-US')} bytes)`
        : 'inside a header';
      throw new UserError(`${path} ends ${where}: the archive is truncated; download it again`);
    }
    const why = message.startsWith('Invalid tar header. Maybe') ? 'checksum mismatch' : message;
    throw new UserError(
      `${path}: corrupt tar header at uncompressed byte ${nextHeaderAt.toLocaleString('en-US')} (${why}); ` +
        'the archive is damaged: download it again',
    );
  }
  return found;
}

/** gzip by its magic bytes, plain tar by the ustar magic; anything else is one clear line. */
async function sniffArchive(path: string): Promise<'gzip' | 'tar'> {
  const head = Buffer.alloc(512);
  let length: number;
  try {
    const handle = await open(path, 'r');
    try {
      ({ bytesRead: length } = await handle.read(head, 0, head.length, 0));
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new UserError(describeFsError(error, 'read', path));
  }
  if (length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (length === 512 && head.toString('latin1', 257, 262) === 'ustar') return 'tar';
  if (/\.(gz|tgz)$/i.test(path)) {
    throw new UserError(
      `${path} is not a valid gzip file (no gzip header at byte 0): the archive is damaged; download it again`,
    );
  }
  throw new UserError(`${path} is neither a directory nor a .tar.gz archive; ${POINT_AT}`);
}
