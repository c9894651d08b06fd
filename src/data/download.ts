/**
 * Downloading the official CIFAR-10 archive when no local copy is given: streamed to a
 * temporary file next to the target with an MD5 computed on the way, and renamed into place
 * only when the download is complete and the checksum matches, so a reader never sees half an
 * archive.
 */
import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UserError, describeFsError } from '../errors.ts';
import { temporarySibling } from '../util/atomic.ts';
import { makeDirectory } from '../util/directory.ts';

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
export const CIFAR10_ARCHIVE_NAME = 'cifar-10-binary.tar.gz';

export interface DownloadOptions {
  /** Defaults to the official archive's address. */
  url?: string;
  /** Expected MD5 (hex); defaults to the official archive's. `null` skips the check. */
  md5?: string | null;
  /** Where the progress bar goes (default stderr); `false` for none. */
  progress?: NodeJS.WritableStream | false;
}

const HOW_TO_AVOID = 'or fetch it by hand and pass --data <dir|archive> (or set CIFAR10_PATH)';

/** Downloads `options.url` to `destination`; throws one clear `UserError` line on any failure. */
export async function downloadCifar10(destination: string, options: DownloadOptions = {}): Promise<void> {
  const url = options.url ?? CIFAR10_URL;
  const expectedMd5 = options.md5 === undefined ? CIFAR10_MD5 : options.md5;
  const progress =
    options.progress === false ? null : new ProgressBar(options.progress ?? process.stderr, url, destination);

  await makeDirectory(dirname(destination), 'create the download directory');

  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new UserError(
      `cannot download ${url}: ${networkReason(error)}; check the network connection, ${HOW_TO_AVOID}`,
    );
  }
  if (!response.ok || !response.body) {
    throw new UserError(
      `cannot download ${url}: the server answered HTTP ${response.status} ${response.statusText}; check the ` +
        `address, ${HOW_TO_AVOID}`,
    );
  }
  const header = response.headers.get('content-length');
  const expectedBytes = header !== null && /^\d+$/.test(header) ? Number(header) : undefined;

  const temporary = temporarySibling(destination);
  const hash = createHash('md5');
  let received = 0;
  try {
    const handle = await open(temporary, 'w').catch((error: unknown) => {
      throw new UserError(describeFsError(error, 'write', temporary));
    });
    try {
      progress?.start(expectedBytes);
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          hash.update(chunk);
          await handle.write(chunk);
          received += chunk.length;
          progress?.update(received);
        }
      } catch (error) {
        if (error instanceof UserError) throw error;
        if (isFsError(error)) throw new UserError(describeFsError(error, 'write', temporary));
        throw new UserError(
          `download of ${url} broke off after ${received.toLocaleString('en-US')} bytes (${networkReason(error)}); ` +
            `run again to retry, ${HOW_TO_AVOID}`,
        );
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    progress?.finish(received);

    if (expectedBytes !== undefined && received !== expectedBytes) {
      throw new UserError(
        `download of ${url} is incomplete: got ${received.toLocaleString('en-US')} of ` +
          `${expectedBytes.toLocaleString('en-US')} bytes; run again to retry, ${HOW_TO_AVOID}`,
      );
    }
    const md5 = hash.digest('hex');
    if (expectedMd5 !== null && md5 !== expectedMd5.toLowerCase()) {
      throw new UserError(
        `downloaded ${url} but its MD5 is ${md5}, expected ${expectedMd5}: the file is damaged or not the ` +
          `CIFAR-10 binary archive, so it was not kept; run again to retry, ${HOW_TO_AVOID}`,
      );
    }
    try {
      await rename(temporary, destination);
    } catch (error) {
      throw new UserError(describeFsError(error, 'write', destination));
    }
  } finally {
    // After a successful rename this is a no-op; after any failure it removes the partial file.
    await rm(temporary, { force: true }).catch(() => undefined);
  }
}

function isFsError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E(NOSPC|ACCES|PERM|ROFS|IO|DQUOT|BADF)$/.test(code);
}

/** fetch wraps the real cause (ECONNREFUSED, ENOTFOUND, …) in a generic "fetch failed". */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  if (cause?.code) return cause.code === 'ENOTFOUND' ? 'host not found (ENOTFOUND)' : `${cause.message ?? cause.code}`;
  if (cause?.message) return cause.message;
  return (error as Error | undefined)?.message ?? String(error);
}

/**
 * A one-line progress bar that redraws itself on a terminal; elsewhere (CI logs, files) it
 * prints a line every 10 % so logs stay short.
 */
class ProgressBar {
  private total: number | undefined;
  private startedAt = 0;
  private lastDraw = 0;
  private lastTenth = -1;
  private readonly isTerminal: boolean;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly url: string,
    private readonly destination: string,
  ) {
    this.isTerminal = Boolean((stream as NodeJS.WriteStream).isTTY);
  }

  start(total: number | undefined): void {
    this.total = total;
    this.startedAt = Date.now();
    const size = total === undefined ? '' : ` (${megabytes(total)})`;
    this.stream.write(`downloading ${this.url}${size} to ${this.destination}\n`);
  }

  update(received: number): void {
    const now = Date.now();
    if (this.isTerminal) {
      if (now - this.lastDraw < 100) return;
      this.lastDraw = now;
      this.stream.write(`\r${this.line(received, now)}\x1b[K`);
    } else if (this.total) {
      const tenth = Math.floor((10 * received) / this.total);
      if (tenth > this.lastTenth && tenth < 10) {
        this.lastTenth = tenth;
        this.stream.write(`${this.line(received, now)}\n`);
      }
    }
  }

  finish(received: number): void {
    const line = this.line(received, Date.now());
    this.stream.write(this.isTerminal ? `\r${line}\x1b[K\n` : `${line}\n`);
  }

  private line(received: number, now: number): string {
    const seconds = Math.max((now - this.startedAt) / 1000, 1e-3);
    const rate = `${megabytes(received / seconds)}/s`;
    if (!this.total) return `${megabytes(received)} ${rate}`;
    const fraction = Math.min(received / this.total, 1);
    const width = 30;
    const filled = Math.round(fraction * width);
    const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
    const percent = `${(100 * fraction).toFixed(0).padStart(3)}%`;
    return `[${bar}] ${percent} ${megabytes(received)} of ${megabytes(this.total)} ${rate}`;
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
