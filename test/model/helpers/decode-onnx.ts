/** Reads an ONNX file written by `exportCheckpointToOnnx` back into plain objects, for the tests' checks. */
import { modelProtoType } from '../../../src/model/onnx.ts';

// Enum value from onnx.proto (fixed by the format).
const ATTR_INTS = 7;

/** The parts of a decoded model that tests and tools look at. */
export interface DecodedOnnxModel {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  nodes: {
    name: string;
    opType: string;
    inputs: string[];
    outputs: string[];
    attributes: Record<string, number | number[]>;
  }[];
  initializers: { name: string; dims: number[]; dataType: number; data: Float32Array }[];
  inputs: { name: string; dims: (number | string)[] }[];
  outputs: { name: string; dims: (number | string)[] }[];
  metadata: Record<string, string>;
}

/** The parts of protobufjs's plain-object form of an ONNX ModelProto that `decodeOnnxModel` reads. */
interface OnnxValueInfoObject {
  name: string;
  type?: { tensor_type?: { shape?: { dim?: { dim_param?: string; dim_value?: number }[] } } };
}
interface OnnxModelObject {
  ir_version: number;
  opset_import?: { domain?: string; version: number }[];
  graph?: {
    node?: {
      name: string;
      op_type: string;
      input?: string[];
      output?: string[];
      attribute?: { name: string; type?: number; ints?: number[]; i?: number }[];
    }[];
    initializer?: { name: string; dims?: number[]; data_type: number; raw_data?: number[] }[];
    input?: OnnxValueInfoObject[];
    output?: OnnxValueInfoObject[];
  };
  metadata_props?: { key: string; value: string }[];
}

export function decodeOnnxModel(bytes: Uint8Array): DecodedOnnxModel {
  const type = modelProtoType();
  const options = { longs: Number, bytes: Array, defaults: false, enums: Number };
  const m = type.toObject(type.decode(bytes), options) as OnnxModelObject;
  const dims = (v: OnnxValueInfoObject) =>
    (v.type?.tensor_type?.shape?.dim ?? []).map((d) => d.dim_param ?? Number(d.dim_value));
  const rawFloats = (raw: number[] | undefined) => {
    const bytes = Uint8Array.from(raw ?? []);
    const view = new DataView(bytes.buffer);
    const out = new Float32Array(bytes.length / 4);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
    return out;
  };
  const graph = m.graph ?? {};
  return {
    irVersion: Number(m.ir_version),
    opsets: (m.opset_import ?? []).map((o) => ({ domain: o.domain ?? '', version: Number(o.version) })),
    nodes: (graph.node ?? []).map((n) => ({
      name: n.name,
      opType: n.op_type,
      inputs: n.input ?? [],
      outputs: n.output ?? [],
      attributes: Object.fromEntries(
        (n.attribute ?? []).map((a) => [a.name, a.type === ATTR_INTS ? (a.ints ?? []).map(Number) : Number(a.i)]),
      ),
    })),
    initializers: (graph.initializer ?? []).map((t) => ({
      name: t.name,
      dims: (t.dims ?? []).map(Number),
      dataType: t.data_type,
      data: rawFloats(t.raw_data),
    })),
    inputs: (graph.input ?? []).map((v) => ({ name: v.name, dims: dims(v) })),
    outputs: (graph.output ?? []).map((v) => ({ name: v.name, dims: dims(v) })),
    metadata: Object.fromEntries((m.metadata_props ?? []).map((p) => [p.key, p.value])),
  };
}
