/**
 * The gradient of Square: dy · 2x. tfjs-core writes it as `mul(dy, mul(x, 2))`, and the number
 * 2 becomes a scalar tensor uploaded from the host every step (on webgpu: a staging buffer
 * created, a copy recorded; tfjs-layers' batch norm squares once per layer). `x + x` is 2x
 * exactly, with the same two kernels and no constant.
 */
import { add, mul } from '@tensorflow/tfjs-core';
import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';

export const squareGradConfig: GradConfig = {
  kernelName: 'Square',
  inputsToSave: ['x'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    const [x] = saved as [Tensor];
    return { x: () => mul(dy as Tensor, add(x, x)) };
  },
};
