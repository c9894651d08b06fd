/**
 * Reading a file the user (or their training script) owns: a projector config, a tensor TSV, a
 * metadata TSV, a sprite. Such a path comes from a config anyone could have written, so it is
 * read with care: it must stay inside `root` (a symbolic link may point elsewhere inside it,
 * never out), be a regular file (a FIFO or a device would block or never end), and be no larger
 * than `maxBytes`. It is opened read-only and non-blocking, read once from one descriptor (so a
 * swap of the path between the check and the read cannot change what is read), and never
 * modified.
 */
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { UserError, describeFsError } from '../errors.ts';

/** Why a user file could not be read; `missing` is the one a watcher may simply wait out. */
export type UserFileProblem = 'missing' | 'outside' | 'not-a-file' | 'too-large' | 'unreadable';

export class UserFileError extends UserError {
  readonly problem: UserFileProblem;

  constructor(problem: UserFileProblem, message: string) {
    super(message);
    this.name = 'UserFileError';
    this.problem = problem;
  }
}

export function isUserFileError(error: unknown, problem?: UserFileProblem): error is UserFileError {
  return error instanceof UserFileError && (problem === undefined || error.problem === problem);
}

export interface UserFileOptions {
  /** The directory the file must stay inside, symbolic links resolved (e.g. the run directory). */
  root: string;
  /** Larger files are refused, not read. */
  maxBytes: number;
  /** What the file is, for messages: 'tensor TSV', 'sprite'. */
  what?: string;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

function size(bytes: number): string {
  return bytes < 1e6 ? `${bytes} bytes` : `${(bytes / 1e6).toFixed(1)} MB`;
}

/** The whole of a regular file inside `options.root`; see the module comment for the checks. */
export async function readUserFile(path: string, options: UserFileOptions): Promise<Buffer> {
  const what = options.what ?? 'file';
  const absolute = resolve(path);
  const root = resolve(options.root);
  if (!inside(root, absolute)) {
    throw new UserFileError('outside', `${what} ${path} is outside ${root}; only files inside the run are read`);
  }
  let real: string;
  let realRoot: string;
  try {
    realRoot = await realpath(root);
    real = await realpath(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = code === 'ENOENT' ? 'missing' : 'unreadable';
    throw new UserFileError(problem, describeFsError(error, `read ${what}`, path));
  }
  if (!inside(realRoot, real)) {
    throw new UserFileError(
      'outside',
      `${what} ${path} is a symbolic link to ${real}, outside ${realRoot}; only files inside the run are read`,
    );
  }
  let handle;
  try {
    // O_NOFOLLOW: the path was resolved above; a link swapped in since then is refused, not followed.
    handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserFileError('missing', describeFsError(error, `read ${what}`, path));
    if (code === 'ELOOP') {
      throw new UserFileError('outside', `${what} ${path} became a symbolic link while being read; not followed`);
    }
    throw new UserFileError('unreadable', describeFsError(error, `read ${what}`, path));
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new UserFileError('not-a-file', `${what} ${path} is not a regular file; point the config at a file`);
    }
    if (stats.size > options.maxBytes) {
      throw new UserFileError(
        'too-large',
        `${what} ${path} is ${size(stats.size)}, over the ${size(options.maxBytes)} this reads; ` +
          'use fewer points or a smaller file',
      );
    }
    // The size of the moment: a file still growing is read up to it (the caller's completeness rule decides).
    const buffer = Buffer.allocUnsafe(stats.size);
    let filled = 0;
    while (filled < stats.size) {
      const { bytesRead } = await handle.read(buffer, filled, stats.size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return filled === stats.size ? buffer : buffer.subarray(0, filled);
  } catch (error) {
    if (error instanceof UserFileError) throw error;
    throw new UserFileError('unreadable', describeFsError(error, `read ${what}`, path));
  } finally {
    await handle.close();
  }
}
