/**
 * The project's gradients, replacing tfjs-core's for the same kernels (for every backend: the
 * gradient registry is global). Same mathematics, fewer full-size temporaries.
 */
import { registerGradient } from '@tensorflow/tfjs-core';
import { batchNormGradConfig } from './batch_norm_grad.ts';
import { meanGradConfig } from './mean_grad.ts';
import { squareGradConfig } from './square_grad.ts';

export const GRADIENTS = [batchNormGradConfig, meanGradConfig, squareGradConfig];

export function registerGradients(): void {
  for (const config of GRADIENTS) registerGradient(config);
}
