import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UserError, describeFsError } from '../errors.ts';

/**
 * Making and checking directories, with one `UserError` line (`cannot <action> <dir>: …`) when
 * it cannot be done.
 *
 * Written out instead of `mkdir(dir, { recursive: true })`: Node 20's recursive mkdir never
 * returns for a path it cannot create under an existing parent that refuses new entries (e.g.
 * `/proc/nope`: ENOENT for the child, EEXIST for the parent, and it retries forever).
 */

/** `mkdir -p dir`; `action` words the error, e.g. 'create log directory'. */
export async function makeDirectory(dir: string, action = 'create directory'): Promise<void> {
  try {
    await makeDirectoryTree(dir);
  } catch (error) {
    throw directoryError(error, action, dir);
  }
}

/** The same for synchronous callers (a constructor). */
export function makeDirectorySync(dir: string, action = 'create directory'): void {
  try {
    makeDirectoryTreeSync(dir);
  } catch (error) {
    throw directoryError(error, action, dir);
  }
}

/** Checks that a log directory to read (holding runs) exists and is a directory. */
export async function checkLogDirectory(logdir: string): Promise<void> {
  let info;
  try {
    info = await stat(logdir);
  } catch (error) {
    throw new UserError(describeFsError(error, 'read log directory', logdir));
  }
  if (!info.isDirectory())
    throw new UserError(`log directory ${logdir} is a file; pass the directory holding the runs`);
}

function directoryError(error: unknown, action: string, dir: string): UserError {
  // Every missing parent was created first, so these two mean something else than usual.
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT')
    return new UserError(
      `cannot ${action} ${dir}: that file system does not allow new directories there; choose another directory`,
    );
  if (code === 'EEXIST')
    return new UserError(
      `cannot ${action} ${dir}: a file of that name is in the way; move it or choose another directory`,
    );
  return new UserError(describeFsError(error, action, dir));
}

/** `mkdir` found something there already (a directory, perhaps made by another process, or a file). */
function alreadyExists(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'EEXIST';
}

async function makeDirectoryTree(dir: string): Promise<void> {
  const isDirectory = () =>
    stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
  try {
    await mkdir(dir);
    return;
  } catch (error) {
    if (alreadyExists(error) && (await isDirectory())) return;
    const parent = dirname(dir);
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir) throw error;
    await makeDirectoryTree(parent);
  }
  // The parent exists now; one more try, whose error (if any) is the real answer.
  await mkdir(dir).catch(async (error) => {
    if (!(alreadyExists(error) && (await isDirectory()))) throw error;
  });
}

function makeDirectoryTreeSync(dir: string): void {
  const isDirectory = () => statSync(dir, { throwIfNoEntry: false })?.isDirectory() ?? false;
  try {
    mkdirSync(dir);
    return;
  } catch (error) {
    if (alreadyExists(error) && isDirectory()) return;
    const parent = dirname(dir);
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === dir) throw error;
    makeDirectoryTreeSync(parent);
  }
  try {
    mkdirSync(dir);
  } catch (error) {
    if (!(alreadyExists(error) && isDirectory())) throw error;
  }
}
