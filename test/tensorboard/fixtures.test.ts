/**
 * Against files written by TensorBoard's own Python writer: what we read must be what it wrote,
 * and what we write from the same content must be the same bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EventFileWriter,
  SummaryWriter,
  decodeEvent,
  eventToJson,
  frameRecord,
  histogramOf,
  histogramValue,
  imagesOf,
  listRuns,
  pluginOf,
  protoType,
  readEventFile,
  readRunEvents,
  scalarOf,
  textOf,
  encodeEvent,
  type Event,
} from '../../src/tensorboard/index.ts';
import { FIXTURE_EVENT_FILE, FIXTURE_LOGDIR, fixture } from './helpers/fixtures.ts';
import { needs } from '../helpers/requirements.ts';

/**
 * Deep equality where numbers are compared as float32 (TensorBoard's JSON prints a float field
 * with float32's shortest digits, e.g. 2.302585, while we read the exact float32 value).
 */
function assertSameJson(actual: unknown, expected: unknown, path: string): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    assert.equal(Math.fround(actual), Math.fround(expected), path);
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path} should be an array`);
    assert.equal(actual.length, expected.length, `${path}.length`);
    expected.forEach((item, i) => assertSameJson(actual[i], item, `${path}[${i}]`));
  } else if (expected !== null && typeof expected === 'object') {
    assert.ok(actual !== null && typeof actual === 'object', `${path} should be an object`);
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), `${path} keys`);
    for (const [key, value] of Object.entries(expected))
      assertSameJson((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
  } else {
    assert.equal(actual, expected, path);
  }
}

const fromJson = (json: Record<string, unknown>): Event =>
  decodeEvent(protoType('Event').encode(protoType('Event').fromObject(json)).finish());

test('reading the fixture log yields exactly the events its README lists', { skip: needs('shared') }, async () => {
  const runs = await listRuns(FIXTURE_LOGDIR);
  assert.deepEqual(
    runs.map((run) => run.name),
    ['run_a'],
  );
  const events = await readRunEvents(runs[0]!.dir);
  assert.equal(events.length, 11);
  assert.equal(events[0]!.file_version, 'brain.Event:2');
  assert.equal(events[0]!.source_metadata?.writer, 'tensorboard.summary.writer.event_file_writer');
  const summary = events.slice(1).map((event) => {
    const value = event.summary!.value![0]!;
    return [value.tag, event.step, pluginOf(value)];
  });
  assert.deepEqual(summary, [
    ['train/loss', 0, 'scalars'],
    ['train/loss', 256, 'scalars'],
    ['train/loss', 512, 'scalars'],
    ['validation/accuracy', 512, 'scalars'],
    ['validation/accuracy', 1024, 'scalars'],
    ['weights/conv1', 512, 'histograms'],
    ['weights/fc', 512, 'histograms'],
    ['embeddings/tsne', 512, 'images'],
    ['worst_samples/cat', 1024, 'images'],
    ['run/options', 0, 'text'],
  ]);
  const values = events.map((event) => event.summary?.value?.[0]);
  assert.deepEqual(
    values.slice(1, 6).map((v) => scalarOf(v!)),
    [2.302585, 1.875, 1.5, 0.25, 0.5].map(Math.fround),
  );
  assert.deepEqual(histogramOf(values[6]!)!.length, 5);
  assert.deepEqual(histogramOf(values[7]!), [
    { left: -1, right: -0.5, count: 1 },
    { left: -0.5, right: 0, count: 0 },
    { left: 0, right: 0.5, count: 1 },
    { left: 0.5, right: 1, count: 2 },
  ]);
  assert.equal(values[9]!.metadata?.display_name, 'worst samples');
  assert.equal(textOf(values[10]!), '**lr** = 0.001\n\n| a | b |\n|---|---|\n| 1 | 2 |');
  // Wall times start at 2026-01-01T00:00:00Z and grow by 1.25 s per record.
  events.forEach((event, i) => assert.equal(event.wall_time, 1767225600 + 1.25 * i));
});

test(
  'each event read equals the decoded event in records.json, and image PNG bytes are identical',
  { skip: needs('shared') },
  async () => {
    const events = await readEventFile(FIXTURE_EVENT_FILE);
    assert.equal(events.length, fixture.records.length);
    fixture.records.forEach((record, i) => {
      assertSameJson(eventToJson(events[i]!), record.event, `record ${i} (${record.kind})`);
      if (record.png_base64 !== undefined) {
        const images = imagesOf(events[i]!.summary!.value![0]!);
        assert.equal(images.length, 1);
        assert.deepEqual(Buffer.from(images[0]!.png), Buffer.from(record.png_base64, 'base64'), `PNG of record ${i}`);
      }
    });
  },
);

test('for every record, our writer produces exactly record_hex from the same Event', { skip: needs('shared') }, () => {
  for (const record of fixture.records) {
    const event = fromJson(record.event);
    assert.equal(
      frameRecord(encodeEvent(event)).toString('hex'),
      record.record_hex,
      `record at ${record.offset} (${record.kind})`,
    );
  }
});

test(
  'EventFileWriter with the same clock and writer name reproduces the fixture file byte for byte',
  { skip: needs('shared') },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-fixture-'));
    try {
      const times = fixture.records.map((record) => fromJson(record.event).wall_time!);
      let next = 0;
      const writer = new EventFileWriter(dir, {
        now: () => times[next++]!,
        sourceWriter: 'tensorboard.summary.writer.event_file_writer',
      });
      for (const record of fixture.records.slice(1)) {
        const event = fromJson(record.event);
        delete event.wall_time; // taken from the writer's clock, like TensorBoard's writer does
        writer.writeEvent(event);
      }
      writer.close();
      assert.deepEqual(readFileSync(writer.path), readFileSync(FIXTURE_EVENT_FILE));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  "SummaryWriter's scalar, histogram, image and text produce TensorBoard's own records",
  { skip: needs('shared') },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-summary-'));
    try {
      const byKind = (kind: string) => fixture.records.filter((record) => record.kind === kind);
      const wanted = [
        ...byKind('scalar_tensor'),
        ...byKind('histogram_tensor'),
        ...byKind('image_tensor'),
        ...byKind('text'),
      ];
      let clock = 0;
      const times = [1767225600, ...wanted.map((record) => record.wall_time!)];
      const writer = new SummaryWriter(dir, { now: () => times[clock++]! });
      for (const record of wanted) {
        if (record.kind === 'scalar_tensor') {
          writer.scalar(record.tag!, scalarOf(fromJson(record.event).summary!.value![0]!)!, record.step!);
        } else if (record.kind === 'histogram_tensor') {
          const buckets = histogramOf(fromJson(record.event).summary!.value![0]!)!;
          writer.writeValue(histogramValue(record.tag!, buckets), record.step!);
        } else if (record.kind === 'image_tensor') {
          writer.image(record.tag!, Buffer.from(record.png_base64!, 'base64'), record.step!, {
            displayName: 'worst samples',
          });
        } else {
          writer.text(record.tag!, textOf(fromJson(record.event).summary!.value![0]!)!, record.step!);
        }
      }
      await writer.close();
      const written = readFileSync(writer.events.path);
      let at = written.readUInt32LE(0) + 16; // skip our own file_version record
      for (const record of wanted) {
        const length = record.record_hex.length / 2;
        assert.equal(
          written.subarray(at, at + length).toString('hex'),
          record.record_hex,
          `${record.kind} ${record.tag}`,
        );
        at += length;
      }
      assert.equal(at, written.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
