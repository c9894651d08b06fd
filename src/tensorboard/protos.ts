/**
 * The TensorBoard protos, loaded from `proto/*.proto` at run time with protobufjs reflection,
 * and hand-written TypeScript shapes for them.
 *
 * Why reflection and not static code (pbjs/pbts): the project runs TypeScript directly through
 * tsx with no build step, protobufjs-cli is not a dependency, and the handful of small messages
 * parse in a few milliseconds. The `.proto` files stay the single source of field numbers; the
 * interfaces below mirror them field for field and the tests check the bytes against files
 * written by TensorBoard itself, so a mismatch cannot go unnoticed.
 *
 * Field names keep the proto's snake_case (`keepCase`), so a TensorBoard JSON dump, the
 * `.proto` file and our objects all spell `wall_time` the same way.
 */
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';

const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));
const PROTO_FILES = ['event.proto', 'projector_config.proto'];

export type DataTypeName =
  | 'DT_INVALID'
  | 'DT_FLOAT'
  | 'DT_DOUBLE'
  | 'DT_INT32'
  | 'DT_UINT8'
  | 'DT_INT16'
  | 'DT_INT8'
  | 'DT_STRING'
  | 'DT_COMPLEX64'
  | 'DT_INT64'
  | 'DT_BOOL'
  | 'DT_QINT8'
  | 'DT_QUINT8'
  | 'DT_QINT32'
  | 'DT_BFLOAT16'
  | 'DT_QINT16'
  | 'DT_QUINT16'
  | 'DT_UINT16'
  | 'DT_COMPLEX128'
  | 'DT_HALF'
  | 'DT_RESOURCE'
  | 'DT_VARIANT'
  | 'DT_UINT32'
  | 'DT_UINT64';

export type DataClassName =
  'DATA_CLASS_UNKNOWN' | 'DATA_CLASS_SCALAR' | 'DATA_CLASS_TENSOR' | 'DATA_CLASS_BLOB_SEQUENCE';

export interface TensorShapeProto {
  dim?: { size?: number; name?: string }[];
  unknown_rank?: boolean;
}

export interface TensorProto {
  dtype?: DataTypeName;
  tensor_shape?: TensorShapeProto;
  version_number?: number;
  tensor_content?: Uint8Array;
  half_val?: number[];
  float_val?: number[];
  double_val?: number[];
  int_val?: number[];
  string_val?: Uint8Array[];
  scomplex_val?: number[];
  int64_val?: number[];
  bool_val?: boolean[];
  dcomplex_val?: number[];
  uint32_val?: number[];
  uint64_val?: number[];
}

export interface HistogramProto {
  min?: number;
  max?: number;
  num?: number;
  sum?: number;
  sum_squares?: number;
  bucket_limit?: number[];
  bucket?: number[];
}

export interface SummaryMetadata {
  plugin_data?: { plugin_name?: string; content?: Uint8Array };
  display_name?: string;
  summary_description?: string;
  data_class?: DataClassName;
}

export interface SummaryImage {
  height?: number;
  width?: number;
  colorspace?: number;
  encoded_image_string?: Uint8Array;
}

export interface SummaryAudio {
  sample_rate?: number;
  num_channels?: number;
  length_frames?: number;
  encoded_audio_string?: Uint8Array;
  content_type?: string;
}

/** One tagged value; at most one of the value fields is set (a proto oneof). */
export interface SummaryValue {
  node_name?: string;
  tag?: string;
  metadata?: SummaryMetadata;
  simple_value?: number;
  obsolete_old_style_histogram?: Uint8Array;
  image?: SummaryImage;
  histo?: HistogramProto;
  audio?: SummaryAudio;
  tensor?: TensorProto;
}

export interface Summary {
  value?: SummaryValue[];
}

export type LogLevelName = 'UNKNOWN' | 'DEBUGGING' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';
export type SessionStatusName = 'STATUS_UNSPECIFIED' | 'START' | 'STOP' | 'CHECKPOINT';

/** An Event as written: every field optional, defaults (0, "") left out as proto3 does. */
export interface Event {
  wall_time?: number;
  step?: number;
  file_version?: string;
  graph_def?: Uint8Array;
  summary?: Summary;
  log_message?: { level?: LogLevelName; message?: string };
  session_log?: { status?: SessionStatusName; checkpoint_path?: string; msg?: string };
  tagged_run_metadata?: { tag?: string; run_metadata?: Uint8Array };
  meta_graph_def?: Uint8Array;
  source_metadata?: { writer?: string };
}

/** An Event as read back: `wall_time` and `step` always present (0 when the file omits them). */
export interface ReadEvent extends Event {
  wall_time: number;
  step: number;
}

export interface SpriteMetadata {
  image_path?: string;
  /** [width, height] of one tile. */
  single_image_dim?: number[];
}

export interface EmbeddingInfo {
  tensor_name?: string;
  metadata_path?: string;
  bookmarks_path?: string;
  tensor_shape?: number[];
  sprite?: SpriteMetadata;
  tensor_path?: string;
}

export interface ProjectorConfig {
  model_checkpoint_path?: string;
  embeddings?: EmbeddingInfo[];
  model_checkpoint_dir?: string;
}

let root: protobuf.Root | undefined;

/** The loaded proto root (parsed once, on first use). */
function protoRoot(): protobuf.Root {
  if (root === undefined) {
    const loaded = new protobuf.Root();
    loaded.resolvePath = (_origin, target) => PROTO_DIR + target.replace(/^.*[\\/]/, '');
    loaded.loadSync(PROTO_FILES, { keepCase: true });
    loaded.resolveAll();
    root = loaded;
  }
  return root;
}

/** A message type by its short name, e.g. `protoType('Event')`. */
export function protoType(name: string): protobuf.Type {
  return protoRoot().lookupType(`tensorboard.${name}`);
}

const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: false };

/** Serialises an Event (accepts enum names or numbers, int64 as numbers). */
export function encodeEvent(event: Event): Uint8Array {
  const type = protoType('Event');
  return type.encode(type.fromObject(event as Record<string, unknown>)).finish();
}

/** Parses an Event payload into plain objects (int64 as numbers, enums as names, bytes as Buffer). */
export function decodeEvent(payload: Uint8Array): ReadEvent {
  const type = protoType('Event');
  const event = type.toObject(type.decode(payload), TO_OBJECT_OPTIONS) as Event;
  return { ...event, wall_time: event.wall_time ?? 0, step: event.step ?? 0 };
}

/** Converts a decoded Event into TensorBoard's JSON form (int64 as strings, bytes as base64). */
export function eventToJson(event: Event): Record<string, unknown> {
  const type = protoType('Event');
  return type.toObject(type.fromObject(event as Record<string, unknown>), {
    longs: String,
    enums: String,
    bytes: String,
    defaults: false,
  });
}
