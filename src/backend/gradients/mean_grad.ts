/**
 * The gradient of Mean: dy / n broadcast back over the reduced axes. tfjs-core builds it as
 * (dy · ones) / n, three full-size tensors, and its `ones` is an array made on the host and
 * uploaded (on webgpu: an activation-sized upload every step, 17 % of a step's host time on an
 * H200). Here the full-size operand is `fill(1 / n)`, made by the backend itself (a fill
 * program on webgpu, a memset on wasm), times dy broadcast: two full-size tensors, nothing from
 * the host. `broadcastTo` would also avoid the host, but wasm's Tile behind it is slow
 * (training 30 → 17 img/s at batch 256, measured on the 2-core machine).
 */
import { backend_util, fill, mul, reshape, util } from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

export const meanGradConfig: GradConfig = {
  kernelName: 'Mean',
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x] = saved as [Tensor];
    const { axis } = attrs as unknown as { axis: number | number[] };
    const axes = util.parseAxisParam(axis, x.shape);
    const [, reducedShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
    const count = util.sizeFromShape(reducedShape);
    const expandedShape = x.shape.map((size, i) => (axes.includes(i) ? 1 : size));
    return { x: () => mul(reshape(dy as Tensor, expandedShape), fill(x.shape, 1 / count, 'float32')) };
  },
};
