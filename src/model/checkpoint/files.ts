/**
 * Reading one file of a checkpoint directory. A checkpoint may come from anyone, so its files
 * are read with `readUserFile`'s guards (regular files only, bounded size, nothing outside the
 * directory), and the names its manifests give must be plain file names in the directory itself.
 *
 * A file that is missing from a step directory whose contents changed in the last few seconds,
 * or that cannot be read for want of permission, may be there or readable a moment later (a
 * writer or a copy still at work, a chmod to come): that is a `TransientError`, which the watcher
 * retries instead of skipping the step. A file still missing once the folder has been quiet for
 * that long is damage: a `UserError`, and the step is skipped.
 */
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { TransientError, UserError } from '../../errors.ts';
import { UserFileError, readUserFile } from '../../util/user-file.ts';
import { parseCheckpointDirName } from './format.ts';

/** The largest JSON file of a checkpoint read (model.json of a big model is a few hundred KiB). */
export const MAX_CHECKPOINT_JSON_BYTES = 64 * 1024 * 1024;

const ADVICE = 'the checkpoint is damaged or not ours, use another one';

/** A manifest's file name: one plain name in the checkpoint directory, no folders, no `..`. */
export function isPlainFileName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name);
}

/** Reads `dir/name` with the guards of `readUserFile`; see the module comment for transient failures. */
export async function readCheckpointFile(dir: string, name: string, maxBytes: number): Promise<Buffer> {
  if (!isPlainFileName(name)) {
    throw new UserError(
      `${dir}: a manifest names the file '${name}', which is not in the checkpoint's folder; ${ADVICE}`,
    );
  }
  try {
    return await readUserFile(dir, name, { maxBytes, advice: ADVICE });
  } catch (error) {
    if (!(error instanceof UserFileError)) throw error;
    if (error.code === 'EACCES' || error.code === 'EPERM') throw new TransientError(error.message);
    if (error.code === 'ENOENT' && (await isStepDirectoryInWriting(dir))) {
      throw new TransientError(
        `cannot read ${join(dir, name)}: it is not there yet; the checkpoint may still be being written, try again`,
      );
    }
    throw error;
  }
}

/** How long a checkpoint folder whose files come and go counts as still being written. */
const WRITING_SECONDS = 10;

/** A `step-NNNNNNNNN` directory whose entries changed within `WRITING_SECONDS`. */
async function isStepDirectoryInWriting(dir: string): Promise<boolean> {
  if (parseCheckpointDirName(basename(dir)) === undefined) return false;
  const info = await stat(dir).catch(() => null);
  return info !== null && info.isDirectory() && Date.now() - info.mtimeMs < WRITING_SECONDS * 1000;
}
