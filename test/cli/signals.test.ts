/**
 * Signals reach the program under `npm run`: SIGTERM to npm ends every process it started, each
 * stopping cleanly (the watcher releases its lock, the trainer writes its checkpoint, the demo
 * stops both children), and one Ctrl-C that arrives twice (terminal and npm) counts once.
 * Everything runs on a small synthetic CIFAR-10 folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onStopSignals, SAME_SIGNAL_MS } from '../../src/cli/signals.ts';
import { interruptibleTrainOptions, writeSyntheticCifarDir } from '../train/fixtures.ts';
import { writeFakeCheckpoint } from '../watch/helpers/fake-stages.ts';
import { until } from '../helpers/cli.ts';
import { pathExists } from '../../src/util/exists.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('a signal within moments of the first counts as the same one; a later one is "again"', (t) => {
  let clock = 1000;
  const seen: string[] = [];
  const release = onStopSignals(
    { first: (s) => seen.push(`first ${s}`), again: (s) => seen.push(`again ${s}`) },
    () => clock,
  );
  t.after(release);
  // As Node delivers a signal to its listeners: with the signal's name.
  const deliver = (signal: NodeJS.Signals) =>
    (process.emit as (event: string, ...args: unknown[]) => boolean)(signal, signal);
  deliver('SIGINT');
  clock += 5;
  deliver('SIGINT'); // the same Ctrl-C, forwarded by npm
  assert.deepEqual(seen, ['first SIGINT']);
  clock += SAME_SIGNAL_MS;
  deliver('SIGTERM');
  assert.deepEqual(seen, ['first SIGINT', 'again SIGTERM']);
});

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts a command in a process group of its own, so the test can see every process it makes. */
function startGroup(command: string, args: string[], t: { after(fn: () => void): void }): Started {
  const child = spawn(command, args, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => {
    if (groupPids(child.pid!).length > 0) process.kill(-child.pid!, 'SIGKILL');
  });
  return { child, output: () => output, exited };
}

function groupPids(pgid: number): number[] {
  const table = execFileSync('ps', ['-eo', 'pid=,pgid='], { encoding: 'utf8' });
  return table
    .trim()
    .split('\n')
    .map((row) => row.trim().split(/\s+/).map(Number))
    .filter(([, g]) => g === pgid)
    .map(([pid]) => pid!);
}

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'signals-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('SIGTERM to `npm run watch` ends every process of it, and the watcher releases its lock', async (t) => {
  const dir = await tempDir(t);
  const data = await writeSyntheticCifarDir(join(dir, 'data'), 10, 100);
  const logdir = join(dir, 'logs');
  // A checkpoint without weights: skipped, after which the watcher waits with the run locked.
  await writeFakeCheckpoint(logdir, 'r', 100, 1);
  const lock = join(logdir, 'r', 'embeddings', 'watcher.lock');
  const npm = startGroup(
    'npm',
    ['run', '--silent', 'watch', '--', '--logdir', logdir, '--data', data, '--val-size', '100', '--poll', '0.5'],
    t,
  );
  await until('skip recorded', () => pathExists(join(logdir, 'r', 'embeddings', 'state.json')), 60);
  assert.ok(await pathExists(lock));

  process.kill(npm.child.pid!, 'SIGTERM');
  await until('end of every process of `npm run watch`', () => groupPids(npm.child.pid!).length === 0, 20);
  assert.match(npm.output(), /SIGTERM: finishing the current frame, then stopping/);
  assert.match(npm.output(), /watcher stopped: 0 frames drawn, 1 skipped/);
  assert.equal(await pathExists(lock), false, 'lock released');
});

test('one Ctrl-C to `npm run train` (the whole process group) stops it cleanly with a checkpoint', async (t) => {
  const dir = await tempDir(t);
  const data = await writeSyntheticCifarDir(join(dir, 'data'), 400, 20);
  const logdir = join(dir, 'logs');
  const npm = startGroup(
    'npm',
    ['run', '--silent', 'train', '--', ...interruptibleTrainOptions(data, logdir, 8, 1000)],
    t,
  );
  const checkpoints = join(logdir, 'sig', 'checkpoints');
  await until('first checkpoint', () => pathExists(join(checkpoints, 'step-000000000', 'checkpoint.json')), 60);
  // A terminal sends SIGINT to the whole group; npm passes it on to the trainer a second time.
  process.kill(-npm.child.pid!, 'SIGINT');
  await until('end of every process of `npm run train`', () => groupPids(npm.child.pid!).length === 0, 30);
  assert.match(npm.output(), /SIGINT: stopping after this step and writing a checkpoint/);
  assert.doesNotMatch(npm.output(), /quitting without a checkpoint/);
  const names = (await readdir(checkpoints)).filter((n) => !n.startsWith('.'));
  assert.equal(names.length, 2, `the checkpoint at step 0 and the one written on stopping: ${names.join(', ')}`);
});

test('SIGTERM to `npm run demo` stops the trainer and the watcher cleanly, and every process ends', async (t) => {
  const dir = await tempDir(t);
  const data = await writeSyntheticCifarDir(join(dir, 'data'), 400, 100);
  const logdir = join(dir, 'logs');
  const npm = startGroup(
    'npm',
    ['run', '--silent', 'demo', '--', '--logdir', logdir, '--run', 'd', '--data', data, '--val-size', '100'],
    t,
  );
  const statePath = join(logdir, 'd', 'embeddings', 'state.json');
  // Both children at work: the watcher has drawn the first checkpoint while the trainer trains.
  await until('first frame', () => pathExists(statePath), 120);
  process.kill(npm.child.pid!, 'SIGTERM');
  await until('end of every process of `npm run demo`', () => groupPids(npm.child.pid!).length === 0, 60);
  const output = npm.output();
  assert.match(output, /demo: SIGTERM, stopping the trainer and the watcher/);
  assert.match(output, /\[train\] SIGTERM: stopping after this step and writing a checkpoint/);
  assert.match(output, /\[watch\] SIGTERM: finishing the current frame/);
  assert.doesNotMatch(
    output,
    /quitting without a checkpoint|abandoning the current frame|watcher stopped before training ended/,
  );
  assert.equal(await pathExists(join(logdir, 'd', 'embeddings', 'watcher.lock')), false, 'lock released');
  const state = JSON.parse(await readFile(statePath, 'utf8')) as { frames: unknown[] };
  assert.ok(state.frames.length >= 1);
});
