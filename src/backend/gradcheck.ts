/**
 * Gradients on a backend under test against the cpu backend (tfjs's reference): single
 * convolutions in every configuration the ResNet uses, and the whole model's loss gradient.
 * Used by the tests (wasm) and by the GPU check kit (webgpu), so both judge the same way.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

export type ConvPad = 'same' | 'valid' | number;

export interface ConvCase {
  kernel: number;
  stride: number;
  pad: ConvPad;
  /** Input height, width. */
  size: [number, number];
}

/** Kernels 1, 3, 7 × strides 1, 2 × 'same', 'valid', plus edge sizes and explicit padding. */
export function convGradientCases(): ConvCase[] {
  const cases: ConvCase[] = [];
  for (const kernel of [1, 3, 7]) {
    for (const stride of [1, 2]) {
      for (const pad of ['same', 'valid'] as const) cases.push({ kernel, stride, pad, size: [12, 11] });
    }
  }
  cases.push(
    { kernel: 3, stride: 2, pad: 'same', size: [9, 10] },
    { kernel: 7, stride: 2, pad: 'same', size: [32, 32] },
    { kernel: 3, stride: 2, pad: 1, size: [10, 9] },
    { kernel: 7, stride: 2, pad: 'valid', size: [13, 14] },
  );
  return cases;
}

/** Deterministic values in [-0.5, 0.5): the same inputs on every backend. */
export function pseudoRandom(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** ‖actual − expected‖ / ‖expected‖. */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff += (actual[i]! - expected[i]!) ** 2;
    norm += expected[i]! ** 2;
  }
  return norm === 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Gradients of Σ r·conv2d(x, w) with respect to x and w on the current backend. */
async function convGradients(c: ConvCase): Promise<{ dx: Float32Array; dw: Float32Array }> {
  const xShape: [number, number, number, number] = [2, c.size[0], c.size[1], 5];
  const wShape: [number, number, number, number] = [c.kernel, c.kernel, 5, 6];
  const [dx, dw] = tf.tidy(() => {
    const x = tf.tensor4d(pseudoRandom(size(xShape), 1 + c.kernel * 10 + c.stride), xShape);
    const w = tf.tensor4d(pseudoRandom(size(wShape), 7 + c.kernel), wShape);
    const f = (a: tf.Tensor, b: tf.Tensor) => {
      const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad);
      return tf.sum(tf.mul(y, tf.tensor(pseudoRandom(size(y.shape), 99), y.shape)));
    };
    return tf.grads(f)([x, w]);
  });
  const result = { dx: (await dx!.data()) as Float32Array, dw: (await dw!.data()) as Float32Array };
  tf.dispose([dx!, dw!]);
  return result;
}

export interface ConvCheck extends ConvCase {
  dxError: number;
  dwError: number;
  /** Tensors left behind by the backend under test (should be 0). */
  leakedTensors: number;
}

/** Runs one case on cpu, then on `backend`; leaves `backend` active. */
export async function checkConvGradients(backend: string, c: ConvCase): Promise<ConvCheck> {
  await tf.setBackend('cpu');
  const expected = await convGradients(c);
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const actual = await convGradients(c);
  return {
    ...c,
    dxError: relativeError(actual.dx, expected.dx),
    dwError: relativeError(actual.dw, expected.dw),
    leakedTensors: tf.memory().numTensors - before,
  };
}

export interface VariableCheck {
  name: string;
  error: number;
}

/** The model's softmax cross-entropy gradient for every trainable weight, in training mode. */
async function modelGradients(
  model: tfl.LayersModel,
  x: tf.Tensor4D,
  labels: tf.Tensor2D,
): Promise<Map<string, Float32Array>> {
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(() => {
    const [logits] = model.apply(x, { training: true }) as tf.Tensor[];
    return tf.losses.softmaxCrossEntropy(labels, logits!) as tf.Scalar;
  }, variables);
  const out = new Map<string, Float32Array>();
  for (const v of variables) out.set(v.name, (await grads[v.name]!.data()) as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  return out;
}

/** Deterministic images and labels for the model checks, created on the current backend. */
function modelInputs(batch: number): { x: tf.Tensor4D; labels: tf.Tensor2D } {
  const images = pseudoRandom(batch * 32 * 32 * 3, 5).map((v) => v * 2);
  const classes = Int32Array.from({ length: batch }, (_, i) => (i * 7) % 10);
  // Labels are made on each backend: tfjs moves an int32→float32 cast made on cpu to another
  // backend with its int32 bytes (a tfjs bug), so no tensor is shared between backends here.
  return {
    x: tf.tensor4d(images, [batch, 32, 32, 3]),
    labels: tf.cast(tf.oneHot(tf.tensor1d(classes, 'int32'), 10), 'float32') as tf.Tensor2D,
  };
}

/** Every trainable weight's gradient on the current backend, by weight name. */
export async function modelGradientsHere(model: tfl.LayersModel, batch: number): Promise<Map<string, Float32Array>> {
  const { x, labels } = modelInputs(batch);
  try {
    return await modelGradients(model, x, labels);
  } finally {
    tf.dispose([x, labels]);
  }
}

/**
 * Builds the model on cpu (so both runs start from the same weights; tfjs moves them to the
 * other backend on first use) and compares every weight's gradient. Leaves `backend` active.
 * Float32 differences in ordinary kernels grow through the batch norms: expect up to ~1e-2 on a
 * network even between two correct backends (measured: wasm vs cpu, stock kernels, [1,1,1]).
 */
export async function checkModelGradients(
  backend: string,
  build: () => tfl.LayersModel,
  batch = 8,
): Promise<VariableCheck[]> {
  await tf.setBackend('cpu');
  const model = build();
  try {
    const expected = await modelGradientsHere(model, batch);
    await tf.setBackend(backend);
    const actual = await modelGradientsHere(model, batch);
    return [...expected.keys()].map((name) => ({ name, error: relativeError(actual.get(name)!, expected.get(name)!) }));
  } finally {
    model.dispose();
  }
}
