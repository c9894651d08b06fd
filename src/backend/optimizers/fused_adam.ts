/**
 * tfjs's AdamOptimizer with the update fused into our own kernels where they exist (webgpu):
 * three dispatches per variable instead of fourteen, no scalar tensors made per step. Same
 * state and the same `getWeights`/`setWeights` layout (iterations, first moments, second
 * moments), so checkpoints of its state load into the stock optimizer and back. On other
 * backends it is the stock optimizer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ADAM_MOMENT, ADAM_UPDATE } from '../kernels/webgpu/adam.ts';

type NamedGradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

interface Moment {
  originalName: string;
  variable: tf.Variable;
}
/** AdamOptimizer's moments are private in its typings but part of its (stable) state layout. */
interface AdamInternals {
  accumulatedFirstMoment: Moment[];
  accumulatedSecondMoment: Moment[];
}

function fusedKernelsHere(): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(ADAM_MOMENT, backend) !== undefined && tf.getKernel(ADAM_UPDATE, backend) !== undefined;
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: NamedGradients): void {
    if (!fusedKernelsHere()) {
      super.applyGradients(variableGradients);
      return;
    }
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    // The stock optimizer divides by 1 − accBeta, accBeta = βᵗ kept as a float32 variable on the
    // device; the host's power is the same number to float32 rounding, with no read-back.
    const step = this.iterations + 1;
    const correction1 = 1 - this.beta1 ** step;
    const correction2 = 1 - this.beta2 ** step;
    const engine = tf.engine();
    const moments = this as unknown as AdamInternals;
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = engine.registeredVariables[name]!;
        this.ensureMoments(i, name, value);
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const first = moments.accumulatedFirstMoment[i]!.variable;
        const second = moments.accumulatedSecondMoment[i]!.variable;
        const run = (kernel: string, inputs: tf.NamedTensorMap, attrs: object) =>
          engine.runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
        const newFirst = run(ADAM_MOMENT, { moment: first, gradient }, { decay: this.beta1, squared: false });
        const newSecond = run(ADAM_MOMENT, { moment: second, gradient }, { decay: this.beta2, squared: true });
        const attrs = { learningRate: this.learningRate, epsilon: this.epsilon, correction1, correction2 };
        const newValue = run(ADAM_UPDATE, { weight: value, first: newFirst, second: newSecond }, attrs);
        first.assign(newFirst);
        second.assign(newSecond);
        value.assign(newValue);
      });
    });
    // accBeta1/2 stay as setWeights left them; only the stock path reads them, and setWeights
    // (the only way back into a stock optimizer's state) recomputes them from `iterations`.
    this.incrementIterations();
  }

  private ensureMoments(i: number, name: string, value: tf.Variable): void {
    const trainable = false;
    const moments = this as unknown as AdamInternals;
    if (moments.accumulatedFirstMoment[i] == null) {
      const variable = tf.tidy(() => tf.zerosLike(value).variable(trainable));
      moments.accumulatedFirstMoment[i] = { originalName: `${name}/m`, variable };
    }
    if (moments.accumulatedSecondMoment[i] == null) {
      const variable = tf.tidy(() => tf.zerosLike(value).variable(trainable));
      moments.accumulatedSecondMoment[i] = { originalName: `${name}/v`, variable };
    }
  }
}

/** The optimizer training uses: fused on webgpu, tfjs's own elsewhere. */
export function createAdamOptimizer(
  learningRate: number,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon?: number,
): tf.AdamOptimizer {
  return new FusedAdamOptimizer(learningRate, beta1, beta2, epsilon);
}
