/**
 * `readUserFile`: a file from a directory we did not write is read only when it is a regular
 * file inside that directory and no bigger than allowed; a named pipe or a device is refused at
 * once (never a hang, never an endless read), each refusal one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readUserFile } from '../../src/util/user-file.ts';
import { isUserError } from '../../src/errors.ts';

const refused = (pattern: RegExp) => (error: unknown) =>
  isUserError(error) && pattern.test(error.message) && !error.message.includes('\n');

test('readUserFile reads regular files inside the directory and refuses everything else in one line', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'user-file-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const dir = join(base, 'run');
  await mkdir(join(dir, 'sub'), { recursive: true });
  await writeFile(join(dir, 'sub', 'tensors.tsv'), '1\t2\n');
  await writeFile(join(base, 'secret.txt'), 'SECRET');
  await symlink(join(dir, 'sub', 'tensors.tsv'), join(dir, 'inside-link.tsv'));
  await symlink(join(base, 'secret.txt'), join(dir, 'outside-link.txt'));
  await symlink('/dev/zero', join(dir, 'zero.bin'));
  execFileSync('mkfifo', [join(dir, 'pipe.bin')]);
  const limits = { maxBytes: 1024 };

  assert.equal((await readUserFile(dir, 'sub/tensors.tsv', limits)).toString(), '1\t2\n');
  assert.equal((await readUserFile(dir, 'inside-link.tsv', limits)).toString(), '1\t2\n');

  await assert.rejects(readUserFile(dir, '../secret.txt', limits), refused(/points outside/));
  await assert.rejects(readUserFile(dir, 'sub/../../secret.txt', limits), refused(/points outside/));
  await assert.rejects(readUserFile(dir, join(base, 'secret.txt'), limits), refused(/points outside/));
  await assert.rejects(readUserFile(dir, 'outside-link.txt', limits), refused(/symbolic link out of/));
  await assert.rejects(readUserFile(dir, 'zero.bin', limits), refused(/symbolic link out of/));
  await assert.rejects(readUserFile(dir, 'pipe.bin', limits), refused(/pipe\.bin: a named pipe, not a regular file/));
  await assert.rejects(readUserFile(dir, 'sub', limits), refused(/a directory, not a regular file/));
  await assert.rejects(readUserFile(dir, 'sub/tensors.tsv', { maxBytes: 3 }), refused(/4 bytes, more than the 3/));
  await assert.rejects(readUserFile(dir, 'missing.tsv', limits), refused(/missing\.tsv: it does not exist/));
  // A device given as the directory itself is still refused: only regular files are read.
  await assert.rejects(readUserFile('/dev', 'zero', limits), refused(/zero: a device, not a regular file/));
});
