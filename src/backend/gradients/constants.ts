/**
 * Scalar constants for gradients, made once per backend and value and kept, instead of a
 * `scalar(c)` per call: on webgpu each fresh scalar is a host upload (a staging buffer created,
 * a copy recorded) every training step.
 */
import { getBackend, keep, scalar, type Scalar } from '@tensorflow/tfjs-core';

const cache = new Map<string, Scalar>();

export function constantScalar(value: number): Scalar {
  const key = `${getBackend()}:${value}`;
  let tensor = cache.get(key);
  if (tensor === undefined || tensor.isDisposed) {
    tensor = keep(scalar(value));
    cache.set(key, tensor);
  }
  return tensor;
}
