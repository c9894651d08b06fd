/**
 * The gradient of FusedBatchNorm, y = (x − mean) · scale / sqrt(variance + ε) + offset, with
 * mean and variance as inputs (tfjs-layers computes them with `moments` in training; their own
 * gradients flow back through it).
 *
 * Same mathematics as tfjs-core's, fewer full-size tensors: per-channel factors are broadcast
 * instead of `tile`d (wasm's Tile took a fifth of a training step), and Σ dy·(x − mean) is
 * computed once for both the scale and the variance gradient. Its constants are made on the
 * device, not uploaded from the host every step.
 */
import { add, backend_util, fill, mul, neg, reshape, rsqrt, sub, sum, tidy } from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

/** A scalar made by the backend (a fill program on webgpu), not uploaded from the host. */
const constant = (value: number) => fill([], value, 'float32');

export const batchNormGradConfig: GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const grad = dy as Tensor;
    const { varianceEpsilon } = attrs as unknown as { varianceEpsilon: number };
    const [x, mean, variance, scale] = saved as [Tensor, Tensor, Tensor, Tensor | null | undefined];
    const scaleValue = scale ?? constant(1);
    const axes = backend_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: Tensor) => (axes.length > 0 ? reshape(sum(t, axes), mean.shape) : t);
    const invStd = rsqrt(add(variance, constant(varianceEpsilon)));
    // Each sum serves two of the gradients below, which tfjs computes one by one, each in its own
    // tidy; so both are computed here, once, keeping only the per-channel results.
    const [sumDyValue, sumDyCenteredValue] = tidy(() => [reduce(grad), reduce(mul(grad, sub(x, mean)))]);
    const sumDy = () => sumDyValue!;
    const sumDyCentered = () => sumDyCenteredValue!;
    return {
      x: () => mul(grad, mul(invStd, scaleValue)),
      mean: () => neg(mul(sumDy(), mul(invStd, scaleValue))),
      // d/dvar of (var + ε)^(−1/2) is −½ (var + ε)^(−3/2)
      variance: () => mul(sumDyCentered(), mul(scaleValue, mul(constant(-0.5), mul(invStd, mul(invStd, invStd))))),
      scale: () => reshape(mul(sumDyCentered(), invStd), (scale ?? mean).shape),
      offset: () => sumDy().clone(), // a tensor of its own: the engine may dispose what it is given
    };
  },
};
