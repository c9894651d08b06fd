/**
 * The watcher on ONNX Runtime runs without TensorFlow.js: loading its command and its real stages
 * must not load tfjs (about 40 MiB and a fraction of a second at every start).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Whether importing `module` (relative to the repository) in a fresh process creates tfjs's engine. */
function loadsTfjs(module: string): boolean {
  const script =
    `await import(${JSON.stringify(ROOT + module)});` +
    'process.stdout.write(String(globalThis._tfengine !== undefined));';
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim() === 'true';
}

test('the watch command and its real stages load no tfjs until the tfjs engine is chosen', () => {
  // The probe itself: the model barrel does load tfjs.
  assert.equal(loadsTfjs('src/model/index.ts'), true);
  for (const module of ['src/cli/watch.ts', 'src/watch/real-stages.ts', 'src/embed/onnx-engine.ts']) {
    assert.equal(loadsTfjs(module), false, module);
  }
});
