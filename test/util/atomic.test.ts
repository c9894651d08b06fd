/**
 * `writeFileAtomic` replaces regular files only: a character device or a named pipe is written
 * into (so `--out /dev/stdout` works and `--png /dev/null` leaves /dev/null a device), a
 * symbolic link is written through when it leads to one, and refused otherwise; a directory or
 * socket is refused. The tests make their own device node (mknod, as root) and links, never
 * touching the machine's /dev.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../src/util/atomic.ts';
import { run as tsne } from '../../src/cli/tsne.ts';
import { collectOutput } from '../../src/cli/output.ts';
import { clusteredData } from '../../src/tsne/index.ts';
import { isUserError } from '../../src/errors.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const oneLine = (pattern: RegExp) => (error: unknown) =>
  isUserError(error) && pattern.test(error.message) && !error.message.includes('\n');

async function scratch(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'atomic-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Our own /dev/null: major 1, minor 3. */
function makeNullDevice(path: string): void {
  execFileSync('mknod', [path, 'c', '1', '3']);
}

test('regular files are replaced whole; devices and pipes are written into and stay what they were', async (t) => {
  const dir = await scratch(t);
  await writeFile(join(dir, 'frame.tsv'), 'old');
  assert.equal(await writeFileAtomic(join(dir, 'frame.tsv'), 'new'), 'file');
  assert.equal(await readFile(join(dir, 'frame.tsv'), 'utf8'), 'new');

  const device = join(dir, 'null');
  makeNullDevice(device);
  assert.equal(await writeFileAtomic(device, 'into the void'), 'stream');
  assert.ok((await lstat(device)).isCharacterDevice(), 'the device is still a device');

  const pipe = join(dir, 'pipe');
  execFileSync('mkfifo', [pipe]);
  const reader = spawn('cat', [pipe]);
  let read = '';
  reader.stdout.on('data', (chunk: Buffer) => (read += chunk.toString()));
  const closed = new Promise((resolve) => reader.on('close', resolve));
  assert.equal(await writeFileAtomic(pipe, '1\t2\n'), 'stream');
  await closed;
  assert.equal(read, '1\t2\n');
  assert.ok((await lstat(pipe)).isFIFO(), 'the pipe is still a pipe');
  assert.deepEqual((await readdir(dir)).sort(), ['frame.tsv', 'null', 'pipe'], 'no temporary files left');
});

test('a symlink is written through to a device, refused otherwise; directories and sockets are refused', async (t) => {
  const dir = await scratch(t);
  makeNullDevice(join(dir, 'null'));
  await symlink(join(dir, 'null'), join(dir, 'to-device'));
  assert.equal(await writeFileAtomic(join(dir, 'to-device'), 'x'), 'stream');
  assert.equal(await readlink(join(dir, 'to-device')), join(dir, 'null'));

  await writeFile(join(dir, 'target.tsv'), 'user data');
  await symlink(join(dir, 'target.tsv'), join(dir, 'to-file'));
  await assert.rejects(writeFileAtomic(join(dir, 'to-file'), 'x'), oneLine(/to-file: it is a symbolic link/));
  assert.equal(await readlink(join(dir, 'to-file')), join(dir, 'target.tsv'), 'the link is untouched');
  assert.equal(await readFile(join(dir, 'target.tsv'), 'utf8'), 'user data', 'its target is untouched');

  await mkdir(join(dir, 'folder'));
  await assert.rejects(
    writeFileAtomic(join(dir, 'folder'), 'x'),
    oneLine(/folder: it is a directory, not a regular file/),
  );
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(join(dir, 'socket'), resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  await assert.rejects(writeFileAtomic(join(dir, 'socket'), 'x'), oneLine(/socket: it is a socket/));
});

test('tsne --out and --png into devices: the devices stay, the frame goes there, the summary to stderr', async (t) => {
  const dir = await scratch(t);
  const n = 40;
  const { X } = clusteredData(n, 4, 2, 4, 3);
  const input = join(dir, 'emb.tsv');
  await writeFile(
    input,
    Array.from({ length: n }, (_, i) => Array.from(X.subarray(i * 4, i * 4 + 4)).join('\t')).join('\n'),
  );
  makeNullDevice(join(dir, 'null'));
  const output = collectOutput();
  assert.equal(
    await tsne(['--input', input, '--out', join(dir, 'null'), '--png', join(dir, 'null'), '--perplexity', '5'], output),
    0,
  );
  assert.ok((await lstat(join(dir, 'null'))).isCharacterDevice());
  assert.deepEqual(output.lines, []);
  assert.match(output.messages.join('\n'), /wrote .*null and .*null/);

  // A link like /dev/stdout (-> /proc/self/fd/1): the frame arrives on the command's stdout.
  await symlink('/proc/self/fd/1', join(dir, 'stdout'));
  // Through `| cat`: node's own stdout pipes are sockets, which cannot be opened by path; a shell's are pipes.
  const command = [
    process.execPath,
    'bin/embedding-timelapse.js',
    'tsne',
    '--input',
    input,
    '--out',
    join(dir, 'stdout'),
  ];
  const child = spawnSync('sh', ['-c', `${command.map((a) => `'${a}'`).join(' ')} --perplexity 5 | cat`], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim().split('\n').length, n);
  assert.match(child.stdout, /^-?\d[\d.e-]*\t-?\d[\d.e-]*$/m);
  assert.match(child.stderr, /wrote .*stdout/);
  assert.equal(await readlink(join(dir, 'stdout')), '/proc/self/fd/1', 'the link is still a link');
});
