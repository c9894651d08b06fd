import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/backend/index.ts';
import { buildResNet, resolveModelOptions } from '../src/model/resnet.ts';
import { createParallelTrainStep } from '../src/train/parallel/index.ts';
await initBackend('wasm', { log: () => undefined });
const modelOptions = resolveModelOptions({ blocks: [6, 6, 12] });
const model = buildResNet({ ...modelOptions, seed: 1 });
console.log('params', model.countParams());
const optimizer = tf.train.adam(1e-3);
const batch = 32;
const images = Float32Array.from({ length: batch * 3072 }, (_, i) => Math.sin(i * 12.9898) % 1);
const input = { images, labels: Int32Array.from({ length: batch }, (_, i) => i % 10), size: batch };
const p = await createParallelTrainStep({ model, modelOptions, optimizer, numClasses: 10, workers: 2, maxBatch: batch, backend: 'wasm' });
for (let s = 0; s < 5; s++) { await p.step(input); console.log(JSON.stringify(p.lastTimings())); }
const t = performance.now(); for (let i = 0; i < 5; i++) await p.checkReplicas(); console.log('checkReplicas ms', (performance.now() - t) / 5);
await p.close();
