/**
 * Reading a file from a directory this program did not write (a checkpoint, a user's log
 * directory): its names come from files anyone could have edited, so a name like
 * `../../../dev/zero` or a named pipe must not make us read something else, grow without bound,
 * or hang. Only a relative path without `..` that stays inside `dir` (symlinks resolved), only a
 * regular file, only up to `maxBytes`, checked on the open descriptor before any byte is read.
 */
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { UserError, describeFsError } from '../errors.ts';

/** A refused or failed read; `code` is the file-system error code when there was one (ENOENT, EACCES, …). */
export class UserFileError extends UserError {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface UserFileLimits {
  /** The largest size accepted; a bigger file is refused before it is read. */
  maxBytes: number;
  /** What to do when the file is refused (default: "use another file"). */
  advice?: string;
}

/** `a/b.tsv` → true; `../x`, `/etc/passwd`, `a/../../x`, `` and names holding NUL → false. */
export function isInsidePath(path: string): boolean {
  if (path === '' || path.includes('\0') || isAbsolute(path) || path.includes('\\')) return false;
  return path.split('/').every((segment) => segment !== '..');
}

/** Opening flags: a FIFO opens at once instead of waiting for a writer; a symlink is refused. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

function kindOf(info: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean }): string {
  if (info.isDirectory()) return 'a directory';
  if (info.isFIFO()) return 'a named pipe';
  if (info.isCharacterDevice()) return 'a device';
  return 'not a regular file';
}

/** Reads `dir/path` (see the module comment for what is refused). Every refusal is a one-line `UserFileError`. */
export async function readUserFile(dir: string, path: string, limits: UserFileLimits): Promise<Buffer> {
  const advice = limits.advice ?? 'use another file';
  const shown = join(dir, path);
  if (!isInsidePath(path)) {
    throw new UserFileError(`${shown}: the name '${path}' points outside ${dir}; ${advice}`);
  }
  let real: string;
  try {
    const dirReal = await realpath(dir);
    real = await realpath(shown);
    const inside = relative(dirReal, real);
    if (inside.startsWith('..' + sep) || inside === '..' || isAbsolute(inside)) {
      throw new UserFileError(`${shown}: a symbolic link out of ${dir}; ${advice}`);
    }
  } catch (error) {
    if (error instanceof UserFileError) throw error;
    throw new UserFileError(describeFsError(error, 'read', shown), (error as NodeJS.ErrnoException).code);
  }
  try {
    await using handle = await open(real, OPEN_FLAGS);
    const info = await handle.stat();
    if (!info.isFile()) throw new UserFileError(`${shown}: ${kindOf(info)}, not a regular file; ${advice}`);
    if (info.size > limits.maxBytes) {
      throw new UserFileError(
        `${shown}: ${info.size.toLocaleString('en-US')} bytes, more than the ` +
          `${limits.maxBytes.toLocaleString('en-US')} expected; ${advice}`,
      );
    }
    const bytes = Buffer.alloc(info.size);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return bytes.subarray(0, filled);
  } catch (error) {
    if (error instanceof UserFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new UserFileError(`${shown}: a symbolic link; ${advice}`, code);
    throw new UserFileError(describeFsError(error, 'read', shown), code);
  }
}
