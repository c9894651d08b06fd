/**
 * `inspect` must not give a false all-clear: a log directory it cannot read is one line and a
 * failure (not "no runs yet", exit 0), and a tag whose steps go backwards (what a resumed run
 * that wrote some steps twice leaves) makes it exit 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/inspect.ts';
import { collectOutput } from '../../src/cli/output.ts';
import { SummaryWriter } from '../../src/tensorboard/index.ts';
import { CLI, REPO_ROOT } from '../helpers/cli.ts';

test('inspect of a log directory it cannot read says so in one line and exits 2', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'inspect-unreadable-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  await chmod(base, 0o755);
  const logdir = join(base, 'logs');
  await mkdir(join(logdir, 'run'), { recursive: true, mode: 0o700 });
  await chmod(logdir, 0o700);
  // Root reads every folder: the unreadable case needs another user.
  const child = spawnSync(
    'setpriv',
    ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'inspect', logdir],
    { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(child.status, 2, child.stdout + child.stderr);
  assert.doesNotMatch(child.stdout, /no runs yet/);
  assert.match(child.stderr, /^embedding-timelapse: cannot list the runs in .*logs: permission denied; [^\n]*\n$/);
});

test('inspect exits 1 when a tag has steps out of order, 0 when every step increases', async (t) => {
  const logdir = await mkdtemp(join(tmpdir(), 'inspect-order-'));
  t.after(() => rm(logdir, { recursive: true, force: true }));
  const ordered = new SummaryWriter(join(logdir, 'ordered'));
  for (const step of [0, 64, 128]) ordered.scalar('train/loss', 1 / (step + 1), step);
  await ordered.close();
  const output = collectOutput();
  assert.equal(await run([logdir], output), 0, output.lines.join('\n'));

  // A run killed after step 128 and resumed from its checkpoint at step 64, written twice.
  const resumed = new SummaryWriter(join(logdir, 'resumed'));
  for (const step of [0, 64, 128, 64, 128, 192]) resumed.scalar('train/loss', 1 / (step + 1), step);
  await resumed.close();
  const again = collectOutput();
  assert.equal(await run([logdir], again), 1);
  assert.match(again.lines.join('\n'), /! tag 'train\/loss': 2 point\(s\) whose step does not increase/);
});
