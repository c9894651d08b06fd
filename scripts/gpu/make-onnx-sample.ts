/**
 * Writes what `scripts/gpu/check_onnx.py` needs to check our ONNX export with Python's `onnx` and
 * `onnxruntime` on another machine: `model.onnx` (exported from a checkpoint) and `sample.json`
 * (a few CIFAR-10 test images and the tfjs layers model's outputs for them, inference mode).
 *
 *   npx tsx scripts/gpu/make-onnx-sample.ts [--out scripts/gpu/sample] [--blocks small] [--images 8]
 *       [--checkpoint <dir>]
 *
 * Without --checkpoint it saves a freshly initialised model (batch norms given non-trivial
 * statistics, so the folding is exercised) to a temporary checkpoint first. Images come from
 * CIFAR10_PATH when set, else a deterministic pattern in [-1, 1].
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { parseCommandArgs, intOption } from '../../src/cli/args.ts';
import { initBackend } from '../../src/backend/index.ts';
import { buildResNet, parseBlocks, resolveModelOptions, predictLogitsAndEmbedding } from '../../src/model/resnet.ts';
import { loadCheckpoint, saveCheckpoint } from '../../src/model/checkpoint.ts';
import { exportCheckpointToOnnx } from '../../src/model/onnx.ts';
import { loadCifar10 } from '../../src/data/load.ts';
import { toModelInput } from '../../src/data/subset.ts';

const { values } = parseCommandArgs('make-onnx-sample', process.argv.slice(2), {
  out: { type: 'string', default: 'scripts/gpu/sample' },
  blocks: { type: 'string', default: 'small' },
  images: { type: 'string' },
  checkpoint: { type: 'string' },
});
const count = intOption('make-onnx-sample', 'images', values.images, 8, 1);
const outDir = resolve(values.out!);

await initBackend('wasm', { log: () => undefined });
let scratch: string | undefined;
let checkpointDir = values.checkpoint;
if (!checkpointDir) {
  scratch = await mkdtemp(join(tmpdir(), 'onnx-sample-'));
  const config = { blocks: parseBlocks(values.blocks!), seed: 7 };
  const model = buildResNet(config);
  // Batch norms far from identity, as after training, so the folded weights differ from raw ones.
  let state = 12345;
  const random = () => ((state = (state * 16807) % 2147483647) - 1) / 2147483646;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const c = layer.getWeights()[0]!.shape[0]!;
    const v = (f: () => number) => tf.tensor1d(Float32Array.from({ length: c }, f));
    const weights = [
      v(() => 0.5 + random()),
      v(() => (random() - 0.5) * 0.4),
      v(() => (random() - 0.5) * 0.6),
      v(() => 0.3 + 1.7 * random()),
    ];
    layer.setWeights(weights);
    tf.dispose(weights);
  }
  const optimizer = tf.train.adam(1e-3);
  checkpointDir = await saveCheckpoint(join(scratch, 'checkpoints'), {
    model,
    optimizer,
    meta: { epoch: 0, samplesSeen: 0, iterations: 0, model: resolveModelOptions(config), data: {}, seed: 7 },
  });
  model.dispose();
  optimizer.dispose();
}

const source = process.env.CIFAR10_PATH;
const input = source
  ? toModelInput(
      (await loadCifar10(source, { splits: 'test', log: () => undefined })).test.images,
      Int32Array.from({ length: count }, (_, i) => i),
    )
  : Float32Array.from({ length: count * 3072 }, (_, i) => Math.sin(i * 0.05));

const { model } = await loadCheckpoint(checkpointDir);
const [logits, embedding] = predictLogitsAndEmbedding(model, tf.tensor4d(input, [count, 32, 32, 3]));
const { bytes } = await exportCheckpointToOnnx(checkpointDir);
await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, 'model.onnx'), bytes);
const round = (a: ArrayLike<number>) => Array.from(a, (v) => Number(v.toPrecision(9)));
await writeFile(
  join(outDir, 'sample.json'),
  JSON.stringify({
    note:
      `${count} ${source ? 'CIFAR-10 test' : 'synthetic'} images, NHWC in [-1,1]; logits and embedding from the ` +
      `tfjs layers model (inference mode) of the checkpoint model.onnx was exported from`,
    shape: [count, 32, 32, 3],
    images: round(input),
    logits: round(await logits.data()),
    embedding: round(await embedding.data()),
  }) + '\n',
);
tf.dispose([logits, embedding]);
model.dispose();
if (scratch) await rm(scratch, { recursive: true, force: true });
console.log(
  `wrote ${join(outDir, 'model.onnx')} (${(bytes.byteLength / 1e6).toFixed(2)} MB) and ${join(outDir, 'sample.json')}`,
);
