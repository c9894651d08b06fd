import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserError } from '../../src/errors.ts';
import { checkLogDirectory, makeDirectory, makeDirectorySync } from '../../src/util/directory.ts';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'directory-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const userError = (pattern: RegExp) => (error: unknown) =>
  isUserError(error) && pattern.test(error.message) && !error.message.includes('\n');

test('makeDirectory makes every missing parent and accepts a directory that is there', async (t) => {
  const dir = await tempDir(t);
  const deep = join(dir, 'a', 'b', 'c');
  await makeDirectory(deep);
  assert.ok((await stat(deep)).isDirectory());
  await makeDirectory(deep);
  makeDirectorySync(join(dir, 'a', 'x', 'y'));
  makeDirectorySync(join(dir, 'a', 'x', 'y'));
  assert.ok((await stat(join(dir, 'a', 'x', 'y'))).isDirectory());
});

test('makeDirectory refuses a file in the way with one line naming the path', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'file');
  await writeFile(file, 'x');
  await assert.rejects(
    makeDirectory(file, 'create log directory'),
    userError(/^cannot create log directory .*file: a file of that name is in the way/),
  );
  await assert.rejects(makeDirectory(join(file, 'below')), userError(/a part of the path is a file/));
  assert.throws(() => makeDirectorySync(join(file, 'below')), userError(/a part of the path is a file/));
});

// Node 20's `mkdir(..., { recursive: true })` never settles for this path; ours must answer.
test(
  'a directory the file system will not create (/proc) is an error, not a hang',
  { skip: !existsSync('/proc/self') && 'no /proc here', timeout: 10_000 },
  async () => {
    await assert.rejects(
      makeDirectory('/proc/no-such-dir/logs'),
      userError(/cannot create directory \/proc\/no-such-dir\/logs: .*choose another directory/),
    );
    assert.throws(() => makeDirectorySync('/proc/no-such-dir'), userError(/choose another directory/));
  },
);

test('checkLogDirectory names a missing log directory and one that is a file', async (t) => {
  const dir = await tempDir(t);
  await checkLogDirectory(dir);
  await assert.rejects(
    checkLogDirectory(join(dir, 'missing')),
    userError(/cannot read log directory .*missing: it does not exist/),
  );
  await writeFile(join(dir, 'file'), 'x');
  await assert.rejects(checkLogDirectory(join(dir, 'file')), userError(/log directory .*file is a file/));
});
