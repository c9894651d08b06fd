import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, symlink, writeFile, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isUserFileError, readUserFile } from '../../src/util/user-file.ts';

async function setup() {
  const base = await mkdtemp(join(tmpdir(), 'user-file-'));
  const root = join(base, 'run');
  await mkdir(root);
  await writeFile(join(root, 'a.tsv'), '1\t2\n');
  await writeFile(join(base, 'secret.txt'), 'outside');
  return { base, root };
}

test('reads a regular file inside the root, and a link that stays inside it', async () => {
  const { root } = await setup();
  await symlink(join(root, 'a.tsv'), join(root, 'link.tsv'));
  const options = { root, maxBytes: 100 };
  assert.equal((await readUserFile(join(root, 'a.tsv'), options)).toString(), '1\t2\n');
  assert.equal((await readUserFile(join(root, 'link.tsv'), options)).toString(), '1\t2\n');
  assert.equal((await readFile(join(root, 'a.tsv'))).toString(), '1\t2\n');
});

test('refuses paths and links out of the root, FIFOs, directories and files over the size bound', async () => {
  const { base, root } = await setup();
  const options = { root, maxBytes: 3, what: 'tensor file' };
  const problem = async (path: string, expected: string, pattern: RegExp) => {
    await assert.rejects(readUserFile(path, options), (error) => {
      assert.ok(isUserFileError(error, expected as never), `${path}: ${String(error)}`);
      assert.match((error as Error).message, pattern);
      return true;
    });
  };
  await problem(join(root, '..', 'secret.txt'), 'outside', /tensor file .* is outside/);
  await symlink(join(base, 'secret.txt'), join(root, 'escape.tsv'));
  await problem(join(root, 'escape.tsv'), 'outside', /is a symbolic link to .*secret\.txt, outside/);
  execFileSync('mkfifo', [join(root, 'pipe.tsv')]);
  // A FIFO with no writer would block a plain open forever; this returns at once.
  await problem(join(root, 'pipe.tsv'), 'not-a-file', /is not a regular file/);
  await problem(root, 'not-a-file', /is not a regular file/);
  await problem(join(root, 'a.tsv'), 'too-large', /is 4 bytes, over the 3 bytes this reads/);
  await problem(join(root, 'none.tsv'), 'missing', /does not exist/);
});
