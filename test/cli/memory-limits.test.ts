/**
 * Running out of memory is one line (what ran out, how much was asked, what to do), not a stack
 * trace of minified tsx source, a worker's 'error' event or an exit without a word. The limits
 * are set with `ulimit -v` in a child shell, so nothing here needs much memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeOutOfMemory } from '../../bin/out-of-memory.js';
import { expectedWeightShapes } from '../../src/model/checkpoint.ts';
import { resolveModelOptions } from '../../src/model/resnet.ts';
import { checkModelFits, parameterCount } from '../../src/train/memory.ts';
import { isUserError } from '../../src/errors.ts';
import { REPO_ROOT } from '../helpers/cli.ts';
import { writeSyntheticCifarDir } from '../train/fixtures.ts';

/** `embedding-timelapse <args>` under `ulimit -v <kilobytes>`. */
function underLimit(kilobytes: number, args: string[]) {
  const quoted = args.map((a) => `'${a}'`).join(' ');
  return spawnSync(
    'sh',
    ['-c', `ulimit -v ${kilobytes} && exec '${process.execPath}' bin/embedding-timelapse.js ${quoted}`],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
}

test('under an 8 GB address-space limit train (wasm) says so in one line; watch still draws', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'memory-limit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const data = await writeSyntheticCifarDir(join(dir, 'data'), 100, 50);
  const logdir = join(dir, 'logs');
  const trainArgs = ['train', '--data', data, '--blocks', '1', '--batch-size', '8', '--max-samples', '16'];
  const trained = underLimit(8_000_000, [...trainArgs, '--logdir', logdir, '--run', 'r']);
  assert.equal(trained.status, 2, trained.stdout + trained.stderr);
  assert.match(
    trained.stderr,
    /^embedding-timelapse: out of memory: WebAssembly could not reserve its memory [^\n]*\n$/m,
  );
  assert.match(
    trained.stderr,
    /about 10 GB of address space per instance.*; the address-space limit \(ulimit -v\) is 8\.2 GB; raise it/,
  );
  assert.doesNotMatch(trained.stderr, /^\s+at |tsx\/dist/m, 'no stack, no minified source');

  // The watcher needs no WebAssembly (ONNX Runtime is native; t-SNE's WebAssembly loops fall back
  // to JavaScript): tsx's own WebAssembly lexer failing in each thread must not stop it either.
  const checkpoints = underLimit(100_000_000, [...trainArgs, '--logdir', logdir, '--run', 'r']);
  assert.equal(checkpoints.status, 0, checkpoints.stderr);
  const watched = underLimit(8_000_000, ['watch', '--once', '--logdir', logdir, '--data', data, '--val-size', '50']);
  assert.equal(watched.status, 0, watched.stdout + watched.stderr);
  assert.match(watched.stdout, /watcher stopped: 2 frames drawn, 0 skipped/);
});

test('a model too big for the backend is refused before it is built, with its size', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'memory-model-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const data = await writeSyntheticCifarDir(join(dir, 'data'), 100, 50);
  // The limit only guards the machine should the check be missing.
  const child = underLimit(40_000_000, [
    'train',
    '--data',
    data,
    '--blocks',
    '1000000,1,1',
    '--backend',
    'wasm',
    '--logdir',
    join(dir, 'logs'),
  ]);
  assert.equal(child.status, 2, child.stdout + child.stderr);
  // The last line: the ones before say which data and backend it found.
  const last = child.stderr.trimEnd().split('\n').at(-1)!;
  assert.match(
    last,
    /^embedding-timelapse: out of memory: a ResNet with --blocks 1000000,1,1 .* has [\d,]+ parameters; /,
  );
  assert.match(last, /training needs at least [\d.]+ GB .*more than the wasm backend's memory \(4\.3 GB\); use fewer/);
  const options = resolveModelOptions({ blocks: [1, 1, 1] });
  assert.doesNotThrow(() => checkModelFits(options, 'wasm'));
  assert.throws(() => checkModelFits(resolveModelOptions({ blocks: [100000] }), 'wasm'), isUserError);
});

test('parameterCount counts the shapes a model has', () => {
  for (const config of [{ blocks: [1, 1, 1] }, { blocks: [6, 6, 12] }, { blocks: [2, 1, 3], widths: [8, 16, 16] }]) {
    const options = resolveModelOptions(config);
    const shapes = [...expectedWeightShapes(options).values()];
    assert.equal(
      parameterCount(options),
      shapes.reduce((sum, shape) => sum + shape.reduce((a, b) => a * b, 1), 0),
    );
  }
});

test('describeOutOfMemory names wasm reservations, full wasm memory and worker heaps; other errors pass', () => {
  const wasm = new RangeError('WebAssembly.instantiate(): Out of memory: Cannot allocate Wasm memory for new instance');
  assert.match(describeOutOfMemory(wasm)!, /^out of memory: WebAssembly could not reserve its memory/);
  const worker = new Error('training worker 2 crashed', { cause: wasm });
  assert.match(describeOutOfMemory(worker)!, /^out of memory: WebAssembly could not reserve/);
  assert.match(describeOutOfMemory(new Error('memory access out of bounds'))!, /more than the 4 GB .*smaller model/);
  const heap = Object.assign(new Error('Worker terminated due to reaching memory limit: JS heap out of memory'), {
    code: 'ERR_WORKER_OUT_OF_MEMORY',
  });
  assert.match(describeOutOfMemory(heap)!, /^out of memory \(.*\); .*--workers 1/);
  assert.equal(describeOutOfMemory(new Error('ENOENT: no such file')), undefined);
  assert.equal(describeOutOfMemory(undefined), undefined);
});
