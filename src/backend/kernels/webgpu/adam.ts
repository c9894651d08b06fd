/**
 * Adam's update as two elementwise WGSL kernels for the webgpu backend, registered under our own
 * kernel names (so tfjs's engine tracks their tensors and the profiler sees them):
 *   EtlAdamMoment: m' = β·m + (1 − β)·g   (or with g² for the second moment)
 *   EtlAdamUpdate: w' = w − lr · (m'/c1) / (√(v'/c2) + ε), c = 1 − βᵗ
 * Three dispatches per variable where tfjs's AdamOptimizer issues fourteen, and the step's
 * constants travel as uniforms instead of scalar tensors uploaded every step.
 */
import { getKernel, registerKernel, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { float, type WebGpuBackendLike, type WebGpuProgram } from './program.ts';

export const ADAM_MOMENT = 'EtlAdamMoment';
export const ADAM_UPDATE = 'EtlAdamUpdate';

export interface AdamMomentAttrs {
  decay: number;
  /** Second moment: accumulate g² instead of g. */
  squared: boolean;
}

export interface AdamUpdateAttrs {
  learningRate: number;
  epsilon: number;
  /** 1 − β1ᵗ and 1 − β2ᵗ. */
  correction1: number;
  correction2: number;
}

const WORKGROUP = 64;

abstract class ElementwiseProgram implements WebGpuProgram {
  abstract variableNames: string[];
  abstract shaderKey: string;
  abstract uniforms: string;
  outputShape: number[];
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  size = true;

  constructor(shape: number[]) {
    this.outputShape = shape;
    this.dispatchLayout = { x: shape.map((_, i) => i) };
    this.dispatch = [Math.ceil(shape.reduce((a, b) => a * b, 1) / WORKGROUP), 1, 1];
  }

  abstract getUserCode(): string;
}

class MomentProgram extends ElementwiseProgram {
  variableNames = ['moment', 'gradient'];
  uniforms = 'decay : f32, oneMinusDecay : f32,';
  shaderKey: string;
  private readonly squared: boolean;

  constructor(shape: number[], squared: boolean) {
    super(shape);
    this.squared = squared;
    this.shaderKey = `etlAdamMoment_${squared}`;
  }

  getUserCode(): string {
    const g = this.squared ? 'gradient[index] * gradient[index]' : 'gradient[index]';
    return `
fn main(index : i32) {
  if (index < uniforms.size) {
    setOutputAtIndex(index, moment[index] * uniforms.decay + ${g} * uniforms.oneMinusDecay);
  }
}
`;
  }
}

class UpdateProgram extends ElementwiseProgram {
  variableNames = ['weight', 'first', 'second'];
  uniforms = 'learningRate : f32, epsilon : f32, correction1 : f32, correction2 : f32,';
  shaderKey = 'etlAdamUpdate';

  getUserCode(): string {
    // The same operations in the same order as tfjs's AdamOptimizer, so both agree to rounding.
    return `
fn main(index : i32) {
  if (index < uniforms.size) {
    let m = first[index] / uniforms.correction1;
    let v = second[index] / uniforms.correction2;
    setOutputAtIndex(index, (m / (sqrt(v) + uniforms.epsilon)) * -uniforms.learningRate + weight[index]);
  }
}
`;
  }
}

const momentKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { moment, gradient } = inputs as { moment: TensorInfo; gradient: TensorInfo };
  const { decay, squared } = attrs as unknown as AdamMomentAttrs;
  const program = new MomentProgram(moment.shape, squared);
  return (backend as unknown as WebGpuBackendLike).runWebGPUProgram(program, [moment, gradient], 'float32', [
    float(decay),
    float(1 - decay),
  ]);
};

const updateKernel: KernelFunc = ({ inputs, backend, attrs }) => {
  const { weight, first, second } = inputs as { weight: TensorInfo; first: TensorInfo; second: TensorInfo };
  const a = attrs as unknown as AdamUpdateAttrs;
  const program = new UpdateProgram(weight.shape);
  return (backend as unknown as WebGpuBackendLike).runWebGPUProgram(program, [weight, first, second], 'float32', [
    float(a.learningRate),
    float(a.epsilon),
    float(a.correction1),
    float(a.correction2),
  ]);
};

export const adamKernelConfigs: KernelConfig[] = [
  { kernelName: ADAM_MOMENT, backendName: 'webgpu', kernelFunc: momentKernel },
  { kernelName: ADAM_UPDATE, backendName: 'webgpu', kernelFunc: updateKernel },
];

export function registerAdamKernels(): void {
  for (const config of adamKernelConfigs) {
    if (getKernel(config.kernelName, config.backendName) === undefined) registerKernel(config);
  }
}
