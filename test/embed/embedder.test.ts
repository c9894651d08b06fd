import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/index.ts';
import { createEmbedder, parseInferenceEngine } from '../../src/embed/index.ts';
import { UserError } from '../../src/errors.ts';
import { layersModelOutputs, makeCheckpoint, maxRelativeRowError } from './fixtures.ts';

await initBackend('wasm', { log: () => undefined });

// A small model, non-trivial batch norms; 300 images = two full batches of 128 and a partial one.
const fixture = await makeCheckpoint({ blocks: [1, 1, 1] }, 21);
after(() => fixture.cleanup());
const N = 300;
const input = Float32Array.from({ length: N * 3072 }, (_, i) => Math.sin(i * 0.013) * Math.cos(i * 0.0007));
const reference = await layersModelOutputs(fixture.model, input, N);

test('auto picks ONNX Runtime here, says so in one line, and matches the layers model across batch edges', async () => {
  const lines: string[] = [];
  const noGpu = async () => ({ available: false as const, why: 'no GPU adapter found' });
  const log = (line: string) => lines.push(line);
  const embedder = await createEmbedder({ engine: 'auto', log, batchSize: 128, probeGpu: noGpu });
  try {
    assert.equal(embedder.name, 'onnxruntime');
    assert.equal(lines.length, 1);
    const how = 'auto: it loads on this machine; webgpu passed over: no GPU adapter found';
    assert.match(lines[0]!, new RegExp(`^inference: onnxruntime-node \\S+ \\(${how}\\), \\d+ threads?$`));
    assert.match(embedder.reason, new RegExp(`${availableParallelism()} thread`));
    await assert.rejects(embedder.embed(input, N), /before load/);
    await embedder.load(fixture.dir);
    const out = await embedder.embed(input, N);
    assert.equal(out.embeddings.length, N * 128);
    assert.equal(out.logits.length, N * 10);
    assert.ok(maxRelativeRowError(reference.embeddings, out.embeddings, 128) < 1e-4);
    assert.ok(maxRelativeRowError(reference.logits, out.logits, 10) < 1e-4);
    // The last rows come from the partial batch: compare them on their own too.
    assert.ok(
      maxRelativeRowError(reference.embeddings.subarray(256 * 128), out.embeddings.subarray(256 * 128), 128) < 1e-4,
    );
    // Zero images is a valid request.
    assert.equal((await embedder.embed(new Float32Array(0), 0)).embeddings.length, 0);
    await assert.rejects(embedder.embed(input.subarray(1), N), /expected n × 32 × 32 × 3/);
  } finally {
    await embedder.dispose();
  }
});

test('onnx with one thread says so and gives the same embeddings as two threads without spin-waiting', async () => {
  const one = await createEmbedder({ engine: 'onnx', threads: 1, log: () => undefined });
  const two = await createEmbedder({ engine: 'onnx', threads: 2, spinWait: false, log: () => undefined });
  try {
    assert.match(one.reason, /asked for with --inference onnx\), 1 thread$/);
    await one.load(fixture.dir);
    await two.load(fixture.dir);
    const a = await one.embed(input.subarray(0, 40 * 3072), 40);
    const b = await two.embed(input.subarray(0, 40 * 3072), 40);
    assert.ok(maxRelativeRowError(a.embeddings, b.embeddings, 128) < 1e-5);
  } finally {
    await one.dispose();
    await two.dispose();
  }
});

test('tfjs engine: folded graph on wasm, same embeddings, no tensor leak, reload replaces the model', async () => {
  const lines: string[] = [];
  const embedder = await createEmbedder({
    engine: 'tfjs',
    backend: 'wasm',
    log: (line) => lines.push(line),
    batchSize: 128,
  });
  try {
    assert.equal(embedder.name, 'tfjs-wasm');
    assert.match(
      lines.at(-1)!,
      /^inference: tfjs on wasm, folded inference graph \(asked for with --inference tfjs\)$/,
    );
    await embedder.load(fixture.dir);
    const first = await embedder.embed(input, N);
    const tensors = tf.memory().numTensors;
    const second = await embedder.embed(input, N);
    assert.equal(tf.memory().numTensors, tensors);
    assert.deepEqual(second.embeddings, first.embeddings);
    assert.ok(maxRelativeRowError(reference.embeddings, first.embeddings, 128) < 1e-4);
    assert.ok(maxRelativeRowError(reference.logits, first.logits, 10) < 1e-4);
    await embedder.load(fixture.dir);
    assert.equal(tf.memory().numTensors, tensors);
  } finally {
    await embedder.dispose();
  }
});

test('tfjs engine with the layers model gives the reference itself', async () => {
  const embedder = await createEmbedder({ engine: 'tfjs', backend: 'wasm', tfjsGraph: 'layers', log: () => undefined });
  try {
    assert.equal(embedder.name, 'tfjs-wasm-layers');
    await embedder.load(fixture.dir);
    const out = await embedder.embed(input.subarray(0, 64 * 3072), 64);
    assert.ok(maxRelativeRowError(reference.embeddings.subarray(0, 64 * 128), out.embeddings, 128) < 1e-6);
  } finally {
    await embedder.dispose();
  }
});

test('auto falls back to tfjs in one line when onnxruntime-node cannot load; onnx then is a clear error', async () => {
  const unavailable = async () => ({
    available: false as const,
    why: 'onnxruntime-node did not load (no binary for this platform)',
  });
  const lines: string[] = [];
  const embedder = await createEmbedder({
    engine: 'auto',
    backend: 'wasm',
    probeOnnx: unavailable,
    log: (line) => lines.push(line),
  });
  try {
    assert.equal(embedder.name, 'tfjs-wasm');
    const inference = lines.filter((line) => line.startsWith('inference:'));
    assert.deepEqual(inference, [
      'inference: tfjs on wasm, folded inference graph (auto; ONNX Runtime passed over: onnxruntime-node did not ' +
        'load (no binary for this platform))',
    ]);
    await embedder.load(fixture.dir);
    const out = await embedder.embed(input.subarray(0, 8 * 3072), 8);
    assert.ok(maxRelativeRowError(reference.embeddings.subarray(0, 8 * 128), out.embeddings, 128) < 1e-4);
  } finally {
    await embedder.dispose();
  }
  await assert.rejects(
    createEmbedder({ engine: 'onnx', probeOnnx: unavailable, log: () => undefined }),
    (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /^--inference onnx: onnxruntime-node did not load .*; .*--inference tfjs$/);
      return true;
    },
  );
});

test('a bad checkpoint directory is a UserError from load()', async () => {
  const embedder = await createEmbedder({ engine: 'onnx', log: () => undefined });
  try {
    await assert.rejects(embedder.load('/nonexistent/step-000000001'), UserError);
  } finally {
    await embedder.dispose();
  }
});

test('--inference and --inference-threads are parsed with clear errors', () => {
  assert.equal(parseInferenceEngine(undefined), 'auto');
  assert.equal(parseInferenceEngine('tfjs'), 'tfjs');
  assert.throws(() => parseInferenceEngine('torch'), /--inference must be auto, onnx or tfjs, got 'torch'/);
});
