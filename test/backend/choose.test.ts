import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import {
  chooseBackend,
  initBackend,
  parseBackendChoice,
  type ProbeResult,
  type Probes,
} from '../../src/backend/index.ts';
import {
  describeAdapter,
  probeTfjsNode,
  probeWebGpu,
  vulkanLoaderPresent,
  wasmBinaryFolder,
} from '../../src/backend/probes.ts';
import { UserError } from '../../src/errors.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function available(name: string, started: string[]): () => Promise<ProbeResult> {
  return async () => ({
    available: true,
    detail: `${name} is here`,
    activate: async () => {
      started.push(name);
      return name;
    },
  });
}
function missing(why: string): () => Promise<ProbeResult> {
  return async () => ({ available: false, why, fix: 'install it' });
}
function fakeProbes(overrides: Partial<Probes>, started: string[]): Probes {
  return {
    'tfjs-node-gpu': missing('not installed'),
    'tfjs-node': missing('not installed'),
    webgpu: missing('no GPU adapter found'),
    wasm: available('wasm', started),
    cpu: available('cpu', started),
    ...overrides,
  };
}

describe('backend choice', () => {
  test('auto falls through to wasm and says what it passed over', async () => {
    const started: string[] = [];
    const result = await chooseBackend('auto', fakeProbes({}, started));
    assert.equal(result.name, 'wasm');
    assert.deepEqual(started, ['wasm']);
    assert.match(result.reason, /tfjs-node-gpu: not installed/);
    assert.match(result.reason, /webgpu: no GPU adapter found/);
  });

  test('auto prefers tfjs-node-gpu, then tfjs-node, then webgpu', async () => {
    let started: string[] = [];
    assert.equal(
      (
        await chooseBackend(
          'auto',
          fakeProbes(
            { 'tfjs-node-gpu': available('tensorflow', started), webgpu: available('webgpu', started) },
            started,
          ),
        )
      ).name,
      'tensorflow',
    );
    started = [];
    assert.equal(
      (
        await chooseBackend(
          'auto',
          fakeProbes({ 'tfjs-node': available('tensorflow', started), webgpu: available('webgpu', started) }, started),
        )
      ).name,
      'tensorflow',
    );
    started = [];
    const gpu = await chooseBackend('auto', fakeProbes({ webgpu: available('webgpu', started) }, started));
    assert.equal(gpu.name, 'webgpu');
    assert.deepEqual(started, ['webgpu']);
  });

  test('auto moves on when a backend probes fine but fails to start', async () => {
    const started: string[] = [];
    const broken = async (): Promise<ProbeResult> => ({
      available: true,
      detail: 'adapter',
      activate: async () => {
        throw new Error('device lost');
      },
    });
    const result = await chooseBackend('auto', fakeProbes({ webgpu: broken }, started));
    assert.equal(result.name, 'wasm');
    assert.match(result.reason, /webgpu: failed to start \(device lost\)/);
  });

  test('an explicit choice that is unavailable is a UserError with the fix', async () => {
    await assert.rejects(
      chooseBackend('webgpu', fakeProbes({}, [])),
      (error: unknown) =>
        error instanceof UserError &&
        /--backend webgpu is not available: no GPU adapter found; install it/.test(error.message),
    );
  });

  test('an explicit choice that is available is used without trying others', async () => {
    const started: string[] = [];
    const result = await chooseBackend('cpu', fakeProbes({ webgpu: available('webgpu', started) }, started));
    assert.deepEqual(started, ['cpu']);
    assert.match(result.reason, /asked for/);
  });

  test('--backend values are checked', () => {
    assert.equal(parseBackendChoice(undefined), 'auto');
    assert.equal(parseBackendChoice('tfjs-node-gpu'), 'tfjs-node-gpu');
    assert.throws(() => parseBackendChoice('cuda'), UserError);
  });
});

describe('probe helpers', () => {
  test('the wasm binaries are found in the package, or where TFJS_WASM_DIR says', () => {
    assert.match(wasmBinaryFolder({}), /tfjs-backend-wasm\/dist\/$/);
    assert.equal(wasmBinaryFolder({ TFJS_WASM_DIR: '/kit/wasm' }), '/kit/wasm/');
  });

  test('a Vulkan loader on LD_LIBRARY_PATH counts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vk-'));
    writeFileSync(join(dir, 'libvulkan.so.1'), '');
    try {
      assert.equal(vulkanLoaderPresent({ LD_LIBRARY_PATH: dir }), true);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('adapters are described by their distinct, non-empty fields', () => {
    assert.equal(
      describeAdapter({ vendor: 'nvidia', architecture: '', device: 'H100', description: 'H100' }),
      'nvidia H100',
    );
    assert.equal(describeAdapter(undefined), 'unknown adapter');
  });
});

describe('real probes on this machine', () => {
  test('tfjs-node, absent here, is reported as not installed with the npm command', async () => {
    for (const name of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'] as const) {
      const probe = await probeTfjsNode(name);
      assert.equal(probe.available, false);
      if (!probe.available) {
        assert.equal(probe.why, 'not installed');
        assert.match(probe.fix, new RegExp(`npm install ${name}`));
      }
    }
    await assert.rejects(
      initBackend('tfjs-node', { log: () => {} }),
      (error: unknown) => error instanceof UserError && /tfjs-node is not available: not installed/.test(error.message),
    );
  });

  test('webgpu without a Vulkan loader answers at once, without touching Dawn', async () => {
    const noLoader = { LD_LIBRARY_PATH: '' };
    if (vulkanLoaderPresent(noLoader)) return; // a machine with Vulkan: covered by the GPU kit
    const started = Date.now();
    const probe = await probeWebGpu(false, noLoader);
    assert.equal(probe.available, false);
    assert.ok(Date.now() - started < 1000);
  });

  test('an explicit webgpu without a GPU is a UserError naming what is missing', async (t) => {
    const probe = await probeWebGpu(true);
    if (probe.available) return t.skip('this machine has a GPU adapter');
    await assert.rejects(
      initBackend('webgpu', { log: () => {} }),
      (error: unknown) =>
        error instanceof UserError &&
        /--backend webgpu is not available: (no Vulkan loader|no GPU adapter)/.test(error.message),
    );
  });

  test('auto starts a working backend and logs one line', async () => {
    const lines: string[] = [];
    const result = await initBackend('auto', { log: (line) => lines.push(line) });
    assert.equal(tf.getBackend(), result.name);
    assert.equal(lines.length, 1);
    assert.match(lines[0], new RegExp(`^backend: ${result.name}: `));
    assert.equal(
      tf.tidy(() => tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0]),
      5,
    );
  });
});
