/**
 * Field numbers of our .proto files against the table in shared/docs/formats.md, including the
 * fields the fixture records do not exercise (the fixture tests cover the others byte by byte).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { decodeEvent, encodeEvent, protoType } from '../../src/tensorboard/index.ts';

const EXPECTED: Record<string, Record<string, number>> = {
  Event: { wall_time: 1, step: 2, file_version: 3, summary: 5, log_message: 6, session_log: 7, source_metadata: 10 },
  Summary: { value: 1 },
  'Summary.Value': {
    node_name: 7,
    tag: 1,
    metadata: 9,
    simple_value: 2,
    obsolete_old_style_histogram: 3,
    image: 4,
    histo: 5,
    audio: 6,
    tensor: 8,
  },
  'Summary.Image': { height: 1, width: 2, colorspace: 3, encoded_image_string: 4 },
  SummaryMetadata: { plugin_data: 1, display_name: 2, summary_description: 3, data_class: 4 },
  'SummaryMetadata.PluginData': { plugin_name: 1, content: 2 },
  HistogramProto: { min: 1, max: 2, num: 3, sum: 4, sum_squares: 5, bucket_limit: 6, bucket: 7 },
  TensorProto: {
    dtype: 1,
    tensor_shape: 2,
    version_number: 3,
    tensor_content: 4,
    float_val: 5,
    double_val: 6,
    int_val: 7,
    string_val: 8,
    int64_val: 10,
    bool_val: 11,
  },
  TensorShapeProto: { dim: 2, unknown_rank: 3 },
  'TensorShapeProto.Dim': { size: 1, name: 2 },
  ProjectorConfig: { model_checkpoint_path: 1, embeddings: 2, model_checkpoint_dir: 3 },
  EmbeddingInfo: { tensor_name: 1, metadata_path: 2, bookmarks_path: 3, tensor_shape: 4, sprite: 5, tensor_path: 6 },
  SpriteMetadata: { image_path: 1, single_image_dim: 2 },
};

test('every message has the field numbers formats.md lists', () => {
  for (const [message, fields] of Object.entries(EXPECTED)) {
    const type = protoType(message);
    for (const [name, id] of Object.entries(fields)) {
      assert.equal(type.fields[name]?.id, id, `${message}.${name}`);
    }
  }
});

test('enums: DataType and DataClass values', () => {
  const dataType = protoType('TensorProto').fields.dtype!.resolve().resolvedType as protobuf.Enum;
  assert.deepEqual(
    ['DT_FLOAT', 'DT_DOUBLE', 'DT_INT32', 'DT_UINT8', 'DT_STRING', 'DT_INT64', 'DT_BOOL'].map(
      (name) => dataType.values[name],
    ),
    [1, 2, 3, 4, 7, 9, 10],
  );
  const dataClass = protoType('SummaryMetadata').fields.data_class!.resolve().resolvedType as protobuf.Enum;
  assert.deepEqual(
    { ...dataClass.values },
    { DATA_CLASS_UNKNOWN: 0, DATA_CLASS_SCALAR: 1, DATA_CLASS_TENSOR: 2, DATA_CLASS_BLOB_SEQUENCE: 3 },
  );
});

test('repeated numeric tensor fields are packed; an event round-trips with large steps and enums', () => {
  const event = {
    wall_time: 1767225600.5,
    step: 2 ** 40 + 3,
    summary: {
      value: [
        {
          tag: 't',
          metadata: { data_class: 'DATA_CLASS_TENSOR' as const, summary_description: 'd' },
          tensor: {
            dtype: 'DT_INT64' as const,
            tensor_shape: { dim: [{ size: 2 }] },
            int64_val: [1, 2 ** 35],
            bool_val: [],
          },
        },
      ],
    },
  };
  const bytes = Buffer.from(encodeEvent(event));
  // int64_val (field 10) packed: tag 0x52 followed by a length, not one 0x50 tag per value.
  assert.ok(bytes.includes(Buffer.from([0x52, 0x07, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])), bytes.toString('hex'));
  const read = decodeEvent(bytes);
  assert.equal(read.step, 2 ** 40 + 3);
  assert.deepEqual(read.summary, {
    value: [
      {
        tag: 't',
        metadata: { data_class: 'DATA_CLASS_TENSOR', summary_description: 'd' },
        tensor: { dtype: 'DT_INT64', tensor_shape: { dim: [{ size: 2 }] }, int64_val: [1, 2 ** 35] },
      },
    ],
  });
});
