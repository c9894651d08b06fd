/**
 * Puts the project's kernels into tfjs's registry for the wasm and webgpu backends, replacing the
 * stock ones where they exist, and the project's gradients (all backends). Safe to call more than
 * once.
 */
import { getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc } from '@tensorflow/tfjs-core';
import { makeBatchNormConfig } from './batch_norm.ts';
import { makeCastConfig } from './cast.ts';
import { conv2DBackpropFilterConfig } from './conv2d_backprop_filter.ts';
import { conv2DBackpropInputConfig } from './conv2d_backprop_input.ts';
import { identityConfig } from './identity.ts';
import { makeMeanConfig, makeSumConfig } from './reduce_spatial.ts';
import { registerGradients } from '../gradients/register.ts';
import { makeConv2DBackpropFilterWebGpu } from './webgpu/conv2d_backprop_filter.ts';
import { registerAdamKernels } from './webgpu/adam.ts';

const OURS = new Set<KernelFunc>();

function replaceKernel(config: KernelConfig): void {
  const existing = getKernel(config.kernelName, config.backendName);
  if (existing !== undefined && OURS.has(existing.kernelFunc)) return;
  if (existing !== undefined) unregisterKernel(config.kernelName, config.backendName);
  registerKernel(config);
  OURS.add(config.kernelFunc);
}

export function registerWasmKernels(): void {
  replaceKernel(conv2DBackpropFilterConfig);
  replaceKernel(conv2DBackpropInputConfig);
  replaceKernel(identityConfig);
  // Kernels that keep the stock one for the cases they do not speed up. (A one-pass JavaScript
  // Sum/Mean was tried before the pooling one: slower than the stock transpose-then-reduce.)
  const wrappers: Array<[string, (stock: KernelFunc) => KernelConfig]> = [
    ['Cast', makeCastConfig],
    ['Sum', makeSumConfig],
    ['Mean', makeMeanConfig],
    ['FusedBatchNorm', makeBatchNormConfig],
  ];
  for (const [name, make] of wrappers) {
    const stock = getKernel(name, 'wasm');
    // The stock kernel's setup (e.g. binding its wasm function) runs when the backend starts.
    if (stock !== undefined && !OURS.has(stock.kernelFunc))
      replaceKernel({ ...make(stock.kernelFunc), setupFunc: stock.setupFunc, disposeFunc: stock.disposeFunc });
  }
  registerGradients();
}

/** After @tensorflow/tfjs-backend-webgpu is imported (it registers the stock kernels we wrap). */
export function registerWebGpuKernels(): void {
  const wrappers: Array<[string, (stock: KernelFunc) => KernelConfig]> = [
    ['Conv2DBackpropFilter', makeConv2DBackpropFilterWebGpu],
  ];
  for (const [name, make] of wrappers) {
    const stock = getKernel(name, 'webgpu');
    if (stock !== undefined && !OURS.has(stock.kernelFunc)) replaceKernel(make(stock.kernelFunc));
  }
  registerAdamKernels();
  registerGradients();
}
