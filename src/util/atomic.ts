/**
 * Writing files others read: a reader sees either the old file or the whole new one.
 *
 * Only a regular file (or nothing) is replaced, by a temporary sibling renamed over it. A
 * character device or a named pipe (`--out /dev/stdout`, `--png /dev/null`) is written straight
 * into instead: replacing it would put a regular file where the device was. A symbolic link is
 * never replaced and never followed to replace its target: when it leads to a device or pipe
 * (`/dev/stdout` is one) the data is written through it, otherwise the write is refused with
 * one line naming the link, since either choice (replace the link, or the file it points at)
 * could silently change a file the user did not name.
 */
import { constants } from 'node:fs';
import { lstat, open, rename, rm, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError, describeFsError } from '../errors.ts';
import { makeDirectory } from './directory.ts';

/** A sibling path for a temporary file or directory: same file system, so `rename` is atomic. */
export function temporarySibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes `data` to `path` and waits until it is on disk (fsync), so a later rename publishes whole data. */
export async function writeFileSynced(path: string, data: string | Uint8Array): Promise<void> {
  await using handle = await open(path, 'w');
  await handle.writeFile(data);
  await handle.sync();
}

/** How `writeFileAtomic` wrote: replaced a regular file, or streamed into a device or pipe. */
export type AtomicWrite = 'file' | 'stream';

const isStream = (info: Stats) => info.isCharacterDevice() || info.isFIFO();

function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isSocket()) return 'a socket';
  if (info.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** What is at `path` now, without following a final symbolic link; null when nothing is. */
async function entryAt(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UserError(describeFsError(error, 'write', path));
  }
}

/** Where the link at `path` leads, or null when nowhere (dangling). */
async function linkTarget(path: string): Promise<Stats | null> {
  return stat(path).catch(() => null);
}

async function writeIntoStream(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await using handle = await open(path, constants.O_WRONLY);
    await handle.writeFile(data);
  } catch (error) {
    throw new UserError(describeFsError(error, 'write', path));
  }
}

/**
 * Writes `data` to `path` so that a reader sees either the old file or the whole new one
 * (temporary file in the same directory, fsync, then rename over the target), or straight into
 * a device or pipe; see the module comment. On failure the temporary file is removed and the
 * old file is untouched.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<AtomicWrite> {
  const existing = await entryAt(path);
  if (existing?.isSymbolicLink()) {
    const target = await linkTarget(path);
    if (target && isStream(target)) {
      await writeIntoStream(path, data);
      return 'stream';
    }
    throw new UserError(
      `cannot write ${path}: it is a symbolic link; name the file itself, or remove the link and start again`,
    );
  }
  if (existing && isStream(existing)) {
    await writeIntoStream(path, data);
    return 'stream';
  }
  if (existing && !existing.isFile()) {
    throw new UserError(`cannot write ${path}: it is ${kindOf(existing)}, not a regular file; choose another path`);
  }
  await makeDirectory(dirname(path));
  const temporary = temporarySibling(path);
  try {
    await writeFileSynced(temporary, data);
    await rename(temporary, path);
    return 'file';
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new UserError(describeFsError(error, 'write', path));
  }
}
