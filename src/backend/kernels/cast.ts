/**
 * Cast for the wasm backend: a cast to the tensor's own dtype (tfjs-layers' batch norm casts its
 * float32 input to float32 every call) shares memory instead of copying; real conversions go to
 * the stock kernel.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { shareData } from './identity.ts';

export function makeCastConfig(stockCast: KernelFunc): KernelConfig {
  const castWasm: KernelFunc = (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (args.attrs?.dtype === x.dtype) return shareData(args.backend as BackendWasm, x);
    return stockCast(args);
  };
  return { kernelName: 'Cast', backendName: 'wasm', kernelFunc: castWasm };
}
