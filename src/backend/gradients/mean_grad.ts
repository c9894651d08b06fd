/**
 * The gradient of Mean: dy / n broadcast back over the reduced axes. tfjs-core builds it as
 * (dy · ones) / n, three full-size tensors; scaling dy first (small) makes it two.
 */
import { backend_util, div, mul, ones, reshape, scalar, util, type GradConfig, type NamedAttrMap, type Tensor } from '@tensorflow/tfjs-core';

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
    return { x: () => mul(div(reshape(dy as Tensor, expandedShape), scalar(count)), ones(x.shape, 'float32')) };
  },
};
