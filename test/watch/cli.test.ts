import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
}

test('watch --help lists every option', () => {
  const result = cli('watch', '--help');
  assert.equal(result.status, 0);
  for (const option of ['--logdir', '--run', '--val-size', '--once', '--backend', '--inference', '--inference-threads', '--json']) {
    assert.match(result.stdout, new RegExp(`\\s${option}\\s`));
  }
});

test('watch option mistakes are one line and exit code 2, before anything loads', () => {
  for (const [args, message] of [
    [['--val-size', '0'], /--val-size must be an integer >= 1, got '0'/],
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
