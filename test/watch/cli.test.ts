import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticCifarDir } from '../train/fixtures.ts';
import { writeFakeCheckpoint } from './helpers/fake-stages.ts';

const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
}

test('watch --help lists every option', () => {
  const result = cli('watch', '--help');
  assert.equal(result.status, 0);
  for (const option of [
    '--logdir',
    '--run',
    '--val-size',
    '--once',
    '--backend',
    '--inference',
    '--inference-threads',
    '--tsne-threads',
    '--json',
  ]) {
    assert.match(result.stdout, new RegExp(`\\s${option}\\s`));
  }
});

test('watch option mistakes are one line and exit code 2, before anything loads', () => {
  for (const [args, message] of [
    [['--val-size', '0'], /--val-size must be an integer >= 1, got '0'/],
    [['--tsne-threads', '0'], /--tsne-threads must be an integer >= 1, got '0'/],
    [['--inference', 'cuda'], /--inference must be auto, onnx or tfjs, got 'cuda'/],
    [['--backend', 'metal'], /--backend must be one of auto, wasm, webgpu, cpu, tfjs-node, tfjs-node-gpu, got 'metal'/],
    [['--frobnicate'], /watch: Unknown option '--frobnicate'/],
  ] as const) {
    const result = cli('watch', ...args);
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
  }
});

test('demo --help describes the small preset', () => {
  const result = cli('demo', '--help');
  assert.equal(result.status, 0);
  assert.match(result.stdout, /small ResNet preset/);
});

test('watch --once --run for a run that is not there exits 2 with one line', async (t) => {
  const logdir = await mkdtemp(join(tmpdir(), 'watch-cli-'));
  t.after(() => rm(logdir, { recursive: true, force: true }));
  const result = cli('watch', '--once', '--logdir', logdir, '--run', 'nosuchrun', '--inference', 'tfjs');
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /no run 'nosuchrun' in .* \(it has no runs with checkpoints\); check --run and --logdir/);
  assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
});

test('watch --once over a log directory exits 1 when a run had to be left alone, naming it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'watch-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const logdir = join(dir, 'logs');
  const data = await writeSyntheticCifarDir(join(dir, 'data'), 10, 100);
  await writeFakeCheckpoint(logdir, 'g', 100, 1);
  await mkdir(join(logdir, 'g', 'embeddings'));
  // This test process is alive and is not the watcher: it stands for `watch --run g`.
  await writeFile(join(logdir, 'g', 'embeddings', 'watcher.lock'), `${process.pid}\n`);
  const result = cli('watch', '--once', '--logdir', logdir, '--data', data, '--val-size', '100', '--inference', 'tfjs');
  assert.equal(result.status, 1, result.stderr);
  const locked = `^leaving run 'g' alone: run 'g' is already being drawn by another watcher \\(process ${process.pid}`;
  assert.match(result.stderr, new RegExp(locked, 'm'));
  assert.match(result.stdout, /watcher stopped: 0 frames drawn, 0 skipped; 1 run left alone \(g, see above\)/);
});
