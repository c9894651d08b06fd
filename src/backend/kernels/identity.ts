/**
 * Identity for the wasm backend without a copy. The stock kernel copies the whole tensor, and
 * tfjs calls Identity a lot (`clone`, the gradients of Cast, Identity, Add…): at batch 64 the
 * seed ResNet's training step copied ~600 MB that way. tfjs tensors are immutable, so the
 * output can share the input's memory, as the stock Reshape kernel (and the cpu backend) do.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export function shareData(backend: BackendWasm, x: TensorInfo): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const identityWasm: KernelFunc = ({ inputs, backend }) => {
  const { x } = inputs as { x: TensorInfo };
  if (x.dtype === 'string') throw new Error('wasm Identity: string tensors are not supported');
  return shareData(backend as BackendWasm, x);
};

export const identityConfig: KernelConfig = { kernelName: 'Identity', backendName: 'wasm', kernelFunc: identityWasm };
