/**
 * Paths the user gives are resolved against the folder they ran the command in, for the
 * command and for every child it starts: `demo` run from another folder (as under `npx`, where
 * the project itself sits inside node_modules) trains and watches in that folder, and the
 * project folder gets nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, killOnExit, until } from '../helpers/cli.ts';
import { writeSyntheticCifarDir } from '../train/fixtures.ts';
import { pathExists } from '../../src/util/exists.ts';

test('demo from another folder with a relative --logdir and --data works there', { timeout: 300_000 }, async (t) => {
  const folder = await mkdtemp(join(tmpdir(), 'elsewhere-'));
  const logName = `mylogs-${process.pid}`;
  t.after(() => rm(folder, { recursive: true, force: true }));
  // Where the run landed before the fix: removed whatever happens.
  t.after(() => rm(join(REPO_ROOT, logName), { recursive: true, force: true }));
  await writeSyntheticCifarDir(join(folder, 'data'), 400, 100);
  const demo = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'bin', 'embedding-timelapse.js'),
      'demo',
      '--logdir',
      logName,
      '--run',
      'd',
      '--data',
      'data',
      '--val-size',
      '50',
    ],
    { cwd: folder, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  killOnExit(demo);
  let output = '';
  for (const stream of [demo.stdout, demo.stderr]) stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let ended = false;
  const exited = new Promise((resolve) => demo.once('exit', resolve)).then(() => (ended = true));

  // The first frame, drawn by the watcher child from the trainer child's first checkpoint.
  const state = join(folder, logName, 'd', 'embeddings', 'state.json');
  await until('the first frame (or the end of the demo)', async () => ended || (await pathExists(state)), 240);
  assert.ok(await pathExists(state), `the first frame in the folder the demo ran in:\n${output}`);
  demo.kill('SIGTERM');
  await exited;
  assert.equal(await pathExists(join(REPO_ROOT, logName)), false, 'nothing written in the project folder');
  assert.ok(await pathExists(join(folder, logName, 'd', 'checkpoints')));
});
