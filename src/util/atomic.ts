import { open, rename, rm } from 'node:fs/promises';
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

/**
 * Writes `data` to `path` so that a reader sees either the old file or the whole new one:
 * temporary file in the same directory, fsync, then rename over the target.
 * On failure the temporary file is removed and the old file is untouched.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await makeDirectory(dirname(path));
  const temporary = temporarySibling(path);
  try {
    await writeFileSynced(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw new UserError(describeFsError(error, 'write', path));
  }
}
