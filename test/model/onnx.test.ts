import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { initBackend } from '../../src/backend/index.ts';
import { exportCheckpointToOnnx, ONNX_OPSET } from '../../src/model/onnx.ts';
import { decodeOnnxModel } from './helpers/decode-onnx.ts';
import { foldResNet } from '../../src/model/fold.ts';
import { FoldedInferenceGraph } from '../../src/model/inference-graph.ts';
import { readCheckpointMeta, readCheckpointWeights } from '../../src/model/checkpoint.ts';
import { UserError } from '../../src/errors.ts';
import { run as exportOnnxCli } from '../../src/cli/export-onnx.ts';
import * as tf from '@tensorflow/tfjs-core';
import {
  cifarTestInput,
  layersModelOutputs,
  makeCheckpoint,
  maxRelativeRowError,
  type TestCheckpoint,
} from '../embed/fixtures.ts';
import { needs } from '../helpers/requirements.ts';
import { collectOutput } from '../../src/cli/output.ts';

await initBackend('wasm', { log: () => undefined });

const TOLERANCE = 1e-4;
const IMAGES = 512;
const realImages = await cifarTestInput(IMAGES);

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function checkpoint(blocks: number[], seed: number, widths?: number[]): Promise<TestCheckpoint> {
  const made = await makeCheckpoint({ blocks, widths }, seed);
  cleanups.push(() => made.cleanup());
  return made;
}

async function runOnnx(bytes: Uint8Array, input: Float32Array, n: number) {
  const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'all', intraOpNumThreads: 2 });
  try {
    const out = await session.run({ images: new ort.Tensor('float32', input, [n, 32, 32, 3]) });
    return { logits: out.logits!, embedding: out.embedding! };
  } finally {
    await session.release();
  }
}

test(
  'the exported graph is a plain ONNX model: opset 13, NHWC input with symbolic batch, two named ' + 'outputs',
  async () => {
    const { dir } = await checkpoint([1, 1, 1], 3);
    const { bytes, net } = await exportCheckpointToOnnx(dir);
    const model = decodeOnnxModel(bytes);
    assert.equal(model.irVersion, 7);
    assert.deepEqual(model.opsets, [{ domain: '', version: ONNX_OPSET }]);
    assert.deepEqual(model.inputs, [{ name: 'images', dims: ['N', 32, 32, 3] }]);
    assert.deepEqual(model.outputs, [
      { name: 'logits', dims: ['N', 10] },
      { name: 'embedding', dims: ['N', 128] },
    ]);
    const ops = new Set(model.nodes.map((n) => n.opType));
    assert.deepEqual([...ops].sort(), ['Add', 'Conv', 'Flatten', 'Gemm', 'GlobalAveragePool', 'Relu', 'Transpose']);
    // stem + 3 blocks × 2 + 2 shortcuts
    assert.equal(model.nodes.filter((n) => n.opType === 'Conv').length, 1 + 6 + 2);

    // Topological order: every input is the graph input, an initializer or an earlier output.
    const defined = new Set(['images', ...model.initializers.map((t) => t.name)]);
    for (const node of model.nodes) {
      for (const input of node.inputs)
        assert.ok(defined.has(input), `${node.name} reads '${input}' before it is defined`);
      for (const output of node.outputs) defined.add(output);
    }
    assert.ok(defined.has('logits') && defined.has('embedding'));

    // Weights land in OIHW with the folded bias; the stem's TF 'same' padding is asymmetric.
    const stem = model.nodes.find((n) => n.name === 'stem_conv')!;
    assert.deepEqual(stem.attributes.pads, [2, 2, 3, 3]);
    assert.deepEqual(stem.attributes.strides, [2, 2]);
    const stemWeight = model.initializers.find((t) => t.name === 'stem_conv.weight')!;
    assert.deepEqual(stemWeight.dims, [32, 3, 7, 7]);
    // OIHW [o=5, i=1, y=2, x=4] is HWIO [y=2, x=4, i=1, o=5].
    assert.equal(stemWeight.data[((5 * 3 + 1) * 7 + 2) * 7 + 4], net.stem.kernel[((2 * 7 + 4) * 3 + 1) * 32 + 5]);
    assert.deepEqual(
      Array.from(model.initializers.find((t) => t.name === 'stem_conv.bias')!.data),
      Array.from(net.stem.bias!),
    );
    assert.equal(model.metadata.step, '1024');
    assert.equal(model.metadata.input_layout, 'NHWC');
  },
);

for (const [label, blocks] of [
  ['seed ResNet (6,6,12)', [6, 6, 12]],
  ['small preset (1,1,1)', [1, 1, 1]],
] as const) {
  test(
    `export then infer: ONNX Runtime and the folded tfjs graph equal the layers model to 1e-4 on ${IMAGES} CIFAR-10 ` +
      `test images, ${label}`,
    { skip: needs('cifar') },
    async (t) => {
      const input = realImages!;
      const { dir, model } = await checkpoint([...blocks], 5);
      const reference = await layersModelOutputs(model, input, IMAGES);

      const { bytes } = await exportCheckpointToOnnx(dir);
      const onnx = await runOnnx(bytes, input, IMAGES);
      assert.deepEqual(onnx.logits.dims, [IMAGES, 10]);
      assert.deepEqual(onnx.embedding.dims, [IMAGES, 128]);
      const onnxEmbedding = onnx.embedding.data as Float32Array;
      const onnxLogits = onnx.logits.data as Float32Array;
      const embeddingError = maxRelativeRowError(reference.embeddings, onnxEmbedding, 128);
      const logitsError = maxRelativeRowError(reference.logits, onnxLogits, 10);
      t.diagnostic(
        `ONNX Runtime vs layers model: embedding ${embeddingError.toExponential(2)}, logits ` +
          `${logitsError.toExponential(2)}`,
      );
      assert.ok(embeddingError < TOLERANCE, `embedding error ${embeddingError}`);
      assert.ok(logitsError < TOLERANCE, `logits error ${logitsError}`);
      // Non-degenerate outputs: the comparison means something.
      assert.ok(
        reference.embeddings.some((v) => v > 0.01) &&
          new Set(Array.from(reference.logits.subarray(0, 50), (v) => v.toFixed(3))).size > 10,
      );

      // The folded tfjs graph (the fallback engine) meets the same tolerance.
      const net = foldResNet(await readCheckpointWeights(dir), (await readCheckpointMeta(dir)).model, dir);
      const graph = new FoldedInferenceGraph(net);
      try {
        const folded = new Float32Array(IMAGES * 128);
        for (let start = 0; start < IMAGES; start += 128) {
          const out = tf.tidy(
            () =>
              graph.predict(tf.tensor4d(input.subarray(start * 3072, (start + 128) * 3072), [128, 32, 32, 3]))
                .embedding,
          );
          folded.set(await out.data(), start * 128);
          out.dispose();
        }
        const foldedError = maxRelativeRowError(reference.embeddings, folded, 128);
        t.diagnostic(`folded tfjs graph vs layers model: embedding ${foldedError.toExponential(2)}`);
        assert.ok(foldedError < TOLERANCE, `folded graph embedding error ${foldedError}`);
      } finally {
        graph.dispose();
      }
    },
  );
}

test('a model with other --blocks and widths (2,1 with widths 16,64) exports and runs', async () => {
  const { dir, model } = await checkpoint([2, 1], 9, [16, 64]);
  const { bytes } = await exportCheckpointToOnnx(dir);
  const input = Float32Array.from({ length: 5 * 3072 }, (_, i) => Math.sin(i * 0.37));
  const onnx = await runOnnx(bytes, input, 5);
  assert.deepEqual(onnx.embedding.dims, [5, 64]);
  assert.deepEqual(onnx.logits.dims, [5, 10]);
  const reference = await layersModelOutputs(model, input, 5);
  assert.ok(maxRelativeRowError(reference.embeddings, onnx.embedding.data as Float32Array, 64) < TOLERANCE);
  assert.ok(maxRelativeRowError(reference.logits, onnx.logits.data as Float32Array, 10) < TOLERANCE);
});

test('a checkpoint with a missing or misshaped weight gets one clear error naming the tensor', async () => {
  const { dir } = await checkpoint([1, 1, 1], 4);
  const modelJsonPath = join(dir, 'model.json');
  const original = await readFile(modelJsonPath, 'utf8');
  const rewrite = async (edit: (spec: { name: string; shape: number[] }) => void) => {
    const json = JSON.parse(original) as { weightsManifest: { weights: { name: string; shape: number[] }[] }[] };
    for (const group of json.weightsManifest) for (const spec of group.weights) edit(spec);
    await writeFile(modelJsonPath, JSON.stringify(json));
  };
  const expectError = async (pattern: RegExp) => {
    await assert.rejects(exportCheckpointToOnnx(dir), (error: unknown) => {
      assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
      assert.match(error.message, pattern);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  };

  // Renamed away: the tensor the model needs is missing.
  await rewrite((spec) => {
    if (spec.name === 's2b0_bn2/moving_mean') spec.name = 's2b0_bn2/renamed';
  });
  await expectError(/'s2b0_bn2\/moving_mean' is missing/);

  // Same number of values, wrong shape.
  await rewrite((spec) => {
    if (spec.name === 's3b0_conv1/kernel') spec.shape = [3, 3, 128, 64];
  });
  await expectError(/'s3b0_conv1\/kernel' has shape/);
  await writeFile(modelJsonPath, original);
  await exportCheckpointToOnnx(dir); // restored: exports again
});

test('export-onnx CLI writes a model ONNX Runtime loads, atomically, to --out', async () => {
  const { dir } = await checkpoint([1, 1, 1], 6);
  const outDir = await mkdtemp(join(tmpdir(), 'export-onnx-'));
  cleanups.push(() => rm(outDir, { recursive: true, force: true }));
  const out = join(outDir, 'nested', 'model.onnx');
  const output = collectOutput();
  assert.equal((await exportOnnxCli([dir, '--out', out], output)) ?? 0, 0);
  assert.match(output.lines.join('\n'), /model\.onnx/);
  const session = await ort.InferenceSession.create(await readFile(out));
  assert.deepEqual(session.inputNames, ['images']);
  assert.deepEqual(session.outputNames, ['logits', 'embedding']);
  await session.release();
  await assert.rejects(exportOnnxCli([join(outDir, 'no-such-checkpoint')]), UserError);
  await assert.rejects(exportOnnxCli([]), UserError);
});
