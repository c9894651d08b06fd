/**
 * Sum and Mean for the wasm backend over the spatial axes of NHWC, [1, 2] or [0, 1, 2]: batch-norm
 * statistics (forward `moments`) and their gradients, global average pooling. The stock kernels
 * transpose the whole tensor so the reduced axes come last, then reduce; XNNPACK's average pooling
 * with a window as large as the image reads it once, channels-last, with SIMD (4–8× faster at
 * batch 256). The small [N, C] result is then reduced over N and scaled in plain JavaScript
 * (float64). Every other case goes to the stock kernel.
 */
import { util, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callWasmKernel, free, makeFloat32, viewFloat32 } from './wasm_calls.ts';

/** Whether `axes` of a rank-4 tensor are {1, 2} or {0, 1, 2}; null when this kernel does not apply. */
export function spatialReduction(rank: number, axes: number[]): { overBatch: boolean } | null {
  if (rank !== 4) return null;
  const set = new Set(axes);
  if (!set.has(1) || !set.has(2) || set.has(3)) return null;
  return { overBatch: set.has(0) };
}

function makeSpatialConfig(kernelName: 'Sum' | 'Mean', stock: KernelFunc): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const axes = util.parseAxisParam(axis, x.shape);
    const plan = x.dtype === 'float32' ? spatialReduction(x.shape.length, axes) : null;
    if (plan === null || util.sizeFromShape(x.shape) === 0) return stock(args);
    const backend = args.backend as BackendWasm;
    const [n, h, w, c] = x.shape as [number, number, number, number];
    const pooled = callWasmKernel('AvgPool', backend, { x }, {
      filterSize: [h, w],
      strides: [1, 1],
      pad: 'valid',
    } as NamedAttrMap);
    // pooled holds per-image spatial means; Sum wants totals, and over the batch both add up.
    const spatialScale = kernelName === 'Sum' ? h * w : 1;
    const batchScale = kernelName === 'Mean' ? 1 / n : 1;
    const outShape = keepDims ? [plan.overBatch ? 1 : n, 1, 1, c] : plan.overBatch ? [c] : [n, c];
    const out = makeFloat32(backend, outShape, (values) => {
      const means = viewFloat32(backend, pooled);
      if (!plan.overBatch) {
        for (let i = 0; i < n * c; i++) values[i] = means[i]! * spatialScale;
        return;
      }
      const acc = new Float64Array(c);
      for (let image = 0; image < n; image++) {
        for (let k = 0; k < c; k++) acc[k]! += means[image * c + k]!;
      }
      for (let k = 0; k < c; k++) values[k] = acc[k]! * spatialScale * batchScale;
    });
    free(backend, pooled);
    return out;
  };
  return { kernelName, backendName: 'wasm', kernelFunc };
}

export const makeSumConfig = (stock: KernelFunc) => makeSpatialConfig('Sum', stock);
export const makeMeanConfig = (stock: KernelFunc) => makeSpatialConfig('Mean', stock);
