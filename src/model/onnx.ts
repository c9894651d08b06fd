/**
 * ONNX export of the inference ResNet: batch norm folded into the convolutions (`fold.ts`), then
 * only the plain operators every ONNX tool knows — Transpose, Conv (with bias), Relu, Add,
 * GlobalAveragePool, Flatten, Gemm — encoded with our subset of onnx.proto through protobufjs.
 *
 * Input layout: `images` is NHWC `[N, 32, 32, 3]`, the layout our images already have in memory
 * (docs/interfaces.md) and the tfjs model's input, so every caller hands over the same buffer to
 * either engine. The graph transposes it to NCHW once, first thing, because ONNX's Conv is
 * NCHW-only: 3 floats moved per pixel against 112 M multiply-adds per image (ONNX Runtime's
 * profiler: about 1 ms of 500 ms for a batch of 256). Outputs: `logits` `[N, 10]` and `embedding`
 * `[N, 128]`; `N` is symbolic.
 *
 * After the Transpose this is the graph PyTorch's exporter writes for an eval-mode ResNet (Conv
 * with the batch norm folded into weights and bias, Relu, Add, GlobalAveragePool, Flatten, Gemm),
 * so ONNX Runtime applies the same fusions (Conv + bias + Add + ReLU in its blocked NCHWc kernels)
 * and runs it as fast: measured side by side, ours and torch.onnx.export's run at the same speed.
 */
import { endianness } from 'node:os';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { FoldedConv, FoldedResNet } from './fold.ts';
import { foldResNet, hwioToOihw } from './fold.ts';
import { readCheckpointMeta, readCheckpointWeights, type CheckpointMeta } from './checkpoint.ts';

/** Opset 13: every operator here has had its current form since 13 or earlier. */
export const ONNX_OPSET = 13;
/** IR version 7 is what opset 13 requires; older readers accept it, newer ones too. */
const ONNX_IR_VERSION = 7;
export const INPUT_NAME = 'images';
export const LOGITS_NAME = 'logits';
export const EMBEDDING_NAME = 'embedding';
const BATCH_DIM = 'N';

const PROTO_PATH = fileURLToPath(new URL('../../proto/onnx.proto', import.meta.url));

// Enum values from onnx.proto (fixed by the format).
const FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

let cachedRoot: protobuf.Root | undefined;
function onnxRoot(): protobuf.Root {
  // keepCase: field names stay as onnx.proto spells them (snake_case), not camelCased.
  cachedRoot ??= new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true });
  return cachedRoot;
}

/** protobufjs's `ModelProto` type, for encoding (the tests read a model back with it too). */
export function modelProtoType(): protobuf.Type {
  return onnxRoot().lookupType('onnx.ModelProto');
}

interface Attribute {
  name: string;
  type: number;
  i?: number;
  ints?: number[];
}
interface Node {
  name: string;
  op_type: string;
  input: string[];
  output: string[];
  attribute: Attribute[];
}
interface Tensor {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

const intAttr = (name: string, i: number): Attribute => ({ name, type: ATTR_INT, i });
const intsAttr = (name: string, ints: number[]): Attribute => ({ name, type: ATTR_INTS, ints });

/** Little-endian bytes of a float32 array; a view, no copy, on little-endian machines. */
function littleEndianBytes(data: Float32Array): Uint8Array {
  if (endianness() === 'LE') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}

/** Collects nodes and initializers while the network is walked in execution order. */
class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];

  initializer(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dims, data_type: FLOAT, raw_data: littleEndianBytes(data) });
    return name;
  }

  node(op: string, name: string, inputs: string[], attributes: Attribute[] = [], output = name): string {
    this.nodes.push({ name, op_type: op, input: inputs, output: [output], attribute: attributes });
    return output;
  }

  conv(x: string, conv: FoldedConv): string {
    const { name, kernelSize: k, inChannels: cin, outChannels: cout } = conv;
    const weight = this.initializer(`${name}.weight`, [cout, cin, k, k], hwioToOihw(conv.kernel, k, k, cin, cout));
    const inputs = [x, weight];
    if (conv.bias !== null) inputs.push(this.initializer(`${name}.bias`, [cout], conv.bias));
    return this.node('Conv', name, inputs, [
      intsAttr('kernel_shape', [k, k]),
      intsAttr('strides', [conv.stride, conv.stride]),
      intsAttr('pads', conv.pads),
      intsAttr('dilations', [1, 1]),
      intAttr('group', 1),
    ]);
  }
}

function tensorType(dims: (number | string)[]) {
  return {
    tensor_type: {
      elem_type: FLOAT,
      shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) },
    },
  };
}

export interface OnnxModelInfo {
  /** Written into the model's metadata_props (e.g. the checkpoint's step), as strings. */
  metadata?: Record<string, string | number>;
  docString?: string;
}

/** Encodes the folded network as an ONNX model (bytes of a `.onnx` file). */
function buildOnnxModel(net: FoldedResNet, info: OnnxModelInfo = {}): Uint8Array {
  const g = new GraphBuilder();
  let x = g.node('Transpose', 'images_to_nchw', [INPUT_NAME], [intsAttr('perm', [0, 3, 1, 2])]);
  x = g.node('Relu', 'stem_relu', [g.conv(x, net.stem)]);
  for (const block of net.blocks) {
    const prefix = block.conv1.name.replace(/_conv1$/, '');
    const y = g.node('Relu', `${prefix}_relu1`, [g.conv(x, block.conv1)]);
    const z = g.conv(y, block.conv2);
    const shortcut = block.shortcut ? g.conv(x, block.shortcut) : x;
    x = g.node('Relu', `${prefix}_relu2`, [g.node('Add', `${prefix}_add`, [z, shortcut])]);
  }
  const pooled = g.node('GlobalAveragePool', 'global_average_pool', [x]);
  const embedding = g.node('Flatten', 'flatten', [pooled], [intAttr('axis', 1)], EMBEDDING_NAME);
  const headKernel = g.initializer('logits.weight', [net.embeddingSize, net.numClasses], net.headKernel);
  const headBias = g.initializer('logits.bias', [net.numClasses], net.headBias);
  // tfjs stores the dense kernel as [in, out], which is Gemm's B without transposition.
  g.node(
    'Gemm',
    'logits',
    [embedding, headKernel, headBias],
    [intAttr('transA', 0), intAttr('transB', 0)],
    LOGITS_NAME,
  );

  const model = {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'embedding-timelapse',
    producer_version: '0.1.0',
    doc_string: info.docString ?? 'ResNet for CIFAR-10, batch norm folded into the convolutions; input NHWC in [-1, 1]',
    graph: {
      name: 'resnet_inference',
      node: g.nodes,
      initializer: g.initializers,
      input: [{ name: INPUT_NAME, type: tensorType([BATCH_DIM, net.inputSize, net.inputSize, net.inputChannels]) }],
      output: [
        { name: LOGITS_NAME, type: tensorType([BATCH_DIM, net.numClasses]) },
        { name: EMBEDDING_NAME, type: tensorType([BATCH_DIM, net.embeddingSize]) },
      ],
    },
    metadata_props: Object.entries(info.metadata ?? {}).map(([key, value]) => ({ key, value: String(value) })),
  };
  const type = modelProtoType();
  return type.encode(type.fromObject(model)).finish();
}

export interface CheckpointExport {
  /** The `.onnx` file's bytes. */
  bytes: Uint8Array;
  meta: CheckpointMeta;
  net: FoldedResNet;
}

/**
 * Reads a checkpoint directory (no tfjs), folds its batch norms and encodes the ONNX model.
 * A missing or misshaped weight throws a `UserError` naming the tensor.
 */
export async function exportCheckpointToOnnx(checkpointDir: string): Promise<CheckpointExport> {
  const meta = await readCheckpointMeta(checkpointDir);
  const weights = await readCheckpointWeights(checkpointDir);
  const net = foldResNet(weights, meta.model, checkpointDir);
  const bytes = buildOnnxModel(net, {
    metadata: {
      step: meta.step,
      samples_seen: meta.samplesSeen,
      epoch: meta.epoch,
      blocks: meta.model.blocks.join(','),
      widths: meta.model.widths.join(','),
      input_layout: 'NHWC',
      input_range: '[-1, 1] (pixel / 127.5 - 1)',
      ...(meta.validationAccuracy !== undefined ? { validation_accuracy: meta.validationAccuracy } : {}),
    },
  });
  return { bytes, meta, net };
}

/**
 * A one-node model (`y = Relu(x)`, x float [N]) in the same encoding: creating a session from it
 * is a cheap check that ONNX Runtime works on this machine before a real model is exported.
 */
export function buildProbeModel(): Uint8Array {
  const model = {
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ domain: '', version: ONNX_OPSET }],
    producer_name: 'embedding-timelapse',
    graph: {
      name: 'probe',
      node: [{ name: 'relu', op_type: 'Relu', input: ['x'], output: ['y'], attribute: [] }],
      input: [{ name: 'x', type: tensorType([BATCH_DIM]) }],
      output: [{ name: 'y', type: tensorType([BATCH_DIM]) }],
    },
  };
  const type = modelProtoType();
  return type.encode(type.fromObject(model)).finish();
}
