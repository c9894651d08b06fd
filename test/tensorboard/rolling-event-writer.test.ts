/**
 * The event writer for object storage: each flush one new, whole event file whose name sorts
 * after the previous ones; read back by our reader from a folder, and by the real TensorBoard
 * 2.21 from s3:// (started first, on an empty prefix, as a user would) while the files appear.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage, storageFor } from '../../src/storage/index.ts';
import { isEventFileName, readEventFile, readRunEvents } from '../../src/tensorboard/event-reader.ts';
import { RollingEventWriter } from '../../src/tensorboard/rolling-event-writer.ts';
import { scalarValue } from '../../src/tensorboard/summaries.ts';
import { needs } from '../helpers/requirements.ts';
import { createTestBucket } from '../helpers/s3.ts';
import { until } from '../helpers/cli.ts';
import { Served } from '../tensorboard-live/helpers/served.ts';
import { startTensorBoard } from '../tensorboard-live/helpers/tensorboard-server.ts';

const scalar = (step: number, value: number) => ({ step, summary: { value: [scalarValue('loss', value)] } });

test('each flush is one new event file with only the new events, named after the ones before', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'rolling-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const storage = new LocalStorage(dir);
  let seconds = 1_700_000_000;
  const writer = new RollingEventWriter(storage, 'run', { now: () => seconds });
  writer.writeEvent(scalar(1, 0.5));
  writer.writeEvent(scalar(2, 0.4));
  await writer.flush();
  await writer.flush(); // nothing queued: no empty file
  for (let step = 3; step <= 12; step++) {
    writer.writeEvent(scalar(step, 1 / step));
    await writer.flush();
    seconds += step === 7 ? -100 : 1; // a clock set back must not put later files before earlier ones
  }
  writer.writeEvent(scalar(13, 0.01));
  await writer.close();
  await writer.close();
  assert.throws(() => writer.writeEvent(scalar(14, 0)), /closed/);

  const keys = (await storage.list('run/')).map((info) => info.key);
  assert.equal(keys.length, 12);
  assert.deepEqual(keys, writer.written, 'name order is write order');
  assert.ok(keys.every((key) => isEventFileName(key.slice('run/'.length))));
  const first = await readEventFile(join(dir, keys[0]!));
  assert.equal(first[0]?.file_version, 'brain.Event:2');
  assert.deepEqual(
    first.slice(1).map((event) => event.step),
    [1, 2],
  );
  for (const key of keys.slice(1)) {
    const events = await readEventFile(join(dir, key));
    assert.equal(events.length, 2, 'every file: its own header and the one new event');
  }
  const steps = (await readRunEvents(join(dir, 'run'))).filter((event) => event.summary).map((event) => event.step);
  assert.deepEqual(
    steps,
    Array.from({ length: 13 }, (_, i) => i + 1),
  );
  assert.equal(
    writer.bytesUploaded,
    (await storage.list('run/')).reduce((sum, info) => sum + info.size, 0),
  );
});

test(
  's3: the real TensorBoard serves every point while new event files appear',
  { skip: needs('s3', 'boto3', 'tensorboard'), timeout: 180_000 },
  async (t) => {
    const bucket = await createTestBucket();
    t.after(() => bucket.remove());
    const logdir = bucket.url('logs');
    const tensorboard = await startTensorBoard(logdir, []);
    t.after(() => tensorboard.stop());
    const served = new Served(tensorboard.url, tensorboard.output);
    const writer = new RollingEventWriter(storageFor(logdir), 'watcher');
    const flushes = 6;
    for (let flush = 0; flush < flushes; flush++) {
      // Two events per flush; several flushes land between two of TensorBoard's reloads.
      writer.writeEvent(scalar(flush * 2, flush));
      writer.writeEvent(scalar(flush * 2 + 1, flush + 0.5));
      await writer.flush();
      if (flush === 1) {
        await until(
          'TensorBoard to serve the first two flushes',
          async () => (await served.scalarSteps('watcher', 'loss').catch(() => [])).length === 4,
          60,
        );
      }
    }
    await writer.close();
    const expected = Array.from({ length: flushes * 2 }, (_, i) => i);
    await until(
      'TensorBoard to serve every step',
      async () => (await served.scalarSteps('watcher', 'loss').catch(() => [])).join() === expected.join(),
      60,
    );
    assert.deepEqual(await served.runs(), ['watcher']);
    assert.deepEqual(await served.scalarSteps('watcher', 'loss'), expected);
  },
);
