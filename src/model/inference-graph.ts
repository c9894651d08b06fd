/**
 * The folded inference graph on tfjs: the ResNet's forward pass in inference mode with every
 * batch norm folded into its convolution (`fold.ts`), so each conv layer is one fused
 * conv + bias (+ ReLU) kernel (`tf.fused.conv2d`) instead of conv → batch norm → ReLU.
 * It gives the layers model's embeddings (to float rounding) at a fraction of the kernel
 * launches and memory traffic; the watcher uses it when ONNX Runtime is not available.
 *
 * Input NHWC `[n, 32, 32, 3]` in [-1, 1], like the layers model.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FoldedConv, FoldedResNet } from './fold.ts';

interface ConvTensors {
  filter: tf.Tensor4D;
  bias: tf.Tensor1D | undefined;
  stride: number;
  pad: [[number, number], [number, number], [number, number], [number, number]];
}

interface BlockTensors {
  conv1: ConvTensors;
  conv2: ConvTensors;
  shortcut?: ConvTensors;
}

export interface InferenceOutputs {
  logits: tf.Tensor2D;
  embedding: tf.Tensor2D;
}

/** Holds the folded weights as tfjs tensors on the current backend until `dispose()`. */
export class FoldedInferenceGraph {
  private readonly stem: ConvTensors;
  private readonly blocks: BlockTensors[];
  private readonly headKernel: tf.Tensor2D;
  private readonly headBias: tf.Tensor1D;
  private disposed = false;

  constructor(net: FoldedResNet) {
    this.stem = toTensors(net.stem);
    this.blocks = net.blocks.map((b) => ({
      conv1: toTensors(b.conv1),
      conv2: toTensors(b.conv2),
      shortcut: b.shortcut ? toTensors(b.shortcut) : undefined,
    }));
    this.headKernel = tf.tensor2d(net.headKernel, [net.embeddingSize, net.numClasses]);
    this.headBias = tf.tensor1d(net.headBias);
  }

  /** Forward pass; the caller owns (and disposes) both outputs. */
  predict(images: tf.Tensor4D): InferenceOutputs {
    if (this.disposed) throw new Error('FoldedInferenceGraph used after dispose()');
    return tf.tidy(() => {
      let x = conv(images, this.stem, 'relu');
      for (const block of this.blocks) {
        const y = conv(x, block.conv1, 'relu');
        const z = conv(y, block.conv2, 'linear');
        const shortcut = block.shortcut ? conv(x, block.shortcut, 'linear') : x;
        x = tf.relu(tf.add(z, shortcut)) as tf.Tensor4D;
      }
      const embedding = tf.mean(x, [1, 2]) as tf.Tensor2D;
      const logits = tf.fused.matMul({ a: embedding, b: this.headKernel, bias: this.headBias }) as tf.Tensor2D;
      return { logits, embedding };
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const all: tf.Tensor[] = [this.headKernel, this.headBias];
    for (const c of [
      this.stem,
      ...this.blocks.flatMap((b) => [b.conv1, b.conv2, ...(b.shortcut ? [b.shortcut] : [])]),
    ]) {
      all.push(c.filter);
      if (c.bias) all.push(c.bias);
    }
    tf.dispose(all);
  }
}

function toTensors(c: FoldedConv): ConvTensors {
  const [top, left, bottom, right] = c.pads;
  return {
    filter: tf.tensor4d(c.kernel, [c.kernelSize, c.kernelSize, c.inChannels, c.outChannels]),
    bias: c.bias ? tf.tensor1d(c.bias) : undefined,
    stride: c.stride,
    pad: [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0],
    ],
  };
}

function conv(x: tf.Tensor4D, c: ConvTensors, activation: 'relu' | 'linear'): tf.Tensor4D {
  return tf.fused.conv2d({
    x,
    filter: c.filter,
    strides: c.stride,
    pad: c.pad,
    dataFormat: 'NHWC',
    bias: c.bias,
    activation,
  });
}
