/**
 * Integrity of a checkpoint's weight files: `checkpoint.json` (written last, once the files are
 * complete) records the SHA-256 of `weights.bin` and `optimizer.bin`, and every reader checks
 * the bytes it read against it. A file of the right size full of other bytes is then refused
 * instead of drawn or exported. Checkpoints written before checksums were recorded have none:
 * they are read as before, without a word.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../../errors.ts';
import { OPTIMIZER_BIN, WEIGHTS_BIN } from './format.ts';

/** The files whose checksums `checkpoint.json` records. */
export const CHECKSUMMED_FILES: readonly string[] = [WEIGHTS_BIN, OPTIMIZER_BIN];

const CHECKSUM_PATTERN = /^sha256:[0-9a-f]{64}$/;

/** `sha256:<64 hex digits>` of some bytes. */
export function sha256Checksum(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function isChecksum(value: unknown): value is string {
  return typeof value === 'string' && CHECKSUM_PATTERN.test(value);
}

/** The checksums of the weight files as they are on disk in `dir` (read back after writing). */
export async function weightFileChecksums(dir: string): Promise<Record<string, string>> {
  const checksums: Record<string, string> = {};
  for (const file of CHECKSUMMED_FILES) checksums[file] = sha256Checksum(await readFile(join(dir, file)));
  return checksums;
}

/**
 * Throws a one-line error for the first file whose bytes (`read`: file name → checksum of what
 * was read) differ from what `recorded` says, or that has no recorded checksum: a manifest may
 * not point at a file the checkpoint did not record (another step's weights copied beside).
 * Checkpoints written before checksums were recorded (`recorded` undefined) pass.
 */
export function verifyChecksums(
  dir: string,
  read: ReadonlyMap<string, string>,
  recorded: Record<string, string> | undefined,
): void {
  if (recorded === undefined) return;
  for (const [file, actual] of read) {
    const expected = Object.hasOwn(recorded, file) ? recorded[file] : undefined;
    if (expected === undefined) {
      throw new UserError(
        `${join(dir, file)}: checkpoint.json records no checksum for this file; the checkpoint is damaged or ` +
          'was altered, use another checkpoint',
      );
    }
    if (expected === actual) continue;
    const short = (checksum: string) => checksum.slice('sha256:'.length, 'sha256:'.length + 12);
    throw new UserError(
      `${join(dir, file)}: checksum mismatch (its sha256 begins ${short(actual)}, ` +
        `checkpoint.json records ${short(expected)}); ` +
        'the file is damaged, use another checkpoint',
    );
  }
}
