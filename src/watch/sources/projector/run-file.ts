/**
 * Reading a file of the user's run through `readUserFile` (regular files inside the run only,
 * size-bounded, never modified), with the paths discovery hands out (absolute, resolved
 * against the run directory).
 */
import { relative, sep } from 'node:path';
import { UserFileError, readUserFile } from '../../../util/user-file.ts';

const ADVICE = 'point the projector config at a regular file inside the run';

export function readRunFile(runDir: string, path: string, maxBytes: number): Promise<Buffer> {
  return readUserFile(runDir, relative(runDir, path).split(sep).join('/'), { maxBytes, advice: ADVICE });
}

/** The file is not there (not yet written, or deleted again): waiting may help. */
export function isMissingFile(error: unknown): boolean {
  return error instanceof UserFileError && error.code === 'ENOENT';
}

/** Refused for what it is (outside the run, not a regular file, too large): waiting will not help. */
export function isRefusedFile(error: unknown): boolean {
  return error instanceof UserFileError && error.code === undefined;
}
