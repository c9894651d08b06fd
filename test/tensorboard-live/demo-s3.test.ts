/**
 * `demo --logdir s3://…` end to end on the Ceph gateway, with the real TensorBoard 2.21 reading
 * the same `s3://` address (boto3, `S3_ENDPOINT`) started before the demo, as a user would:
 * every frame, the GIF and the page land in the bucket, and TensorBoard serves every frame and
 * every scalar point while the demo runs and once it has ended. A few minutes on 2 cores.

 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TENSORBOARD_FLAGS } from '../../src/tensorboard/command.ts';
import { decodeEventBytes } from '../../src/tensorboard/event-reader.ts';
import { isEventFileName, scalarOf } from '../../src/tensorboard/index.ts';
import { completeCheckpointSteps, readWatcherRecord } from '../../src/cli/demo-progress.ts';
import { storageFor, type Storage } from '../../src/storage/index.ts';
import { startCli } from '../helpers/cli.ts';
import { needs } from '../helpers/requirements.ts';
import { createTestBucket } from '../helpers/s3.ts';
import { Served } from './helpers/served.ts';
import { RELOAD_INTERVAL_SECONDS, startTensorBoard } from './helpers/tensorboard-server.ts';

const RUN = 'd';
const FRAME_TAG = 'embeddings/tsne';
const TRAINER_TAG = 'train/loss';

const skip = needs('tensorboard', 'cifar', 's3', 'boto3');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** "run tag" → steps of every scalar in the bucket's event files (each run's files in name order). */
async function scalarsInBucket(storage: Storage): Promise<Map<string, number[]>> {
  const steps = new Map<string, number[]>();
  const keys = (await storage.list('')).map((info) => info.key).filter((key) => isEventFileName(key));
  for (const key of keys.sort()) {
    const run = key.slice(0, key.lastIndexOf('/'));
    for (const event of decodeEventBytes(await storage.read(key), key)) {
      for (const value of event.summary?.value ?? []) {
        if (scalarOf(value) === undefined) continue;
        const name = `${run} ${value.tag}`;
        steps.set(name, [...(steps.get(name) ?? []), Number(event.step)]);
      }
    }
  }
  return steps;
}

async function scalarsServed(served: Served): Promise<Map<string, number[]>> {
  const steps = new Map<string, number[]>();
  for (const [run, tags] of await served.tags('scalars')) {
    for (const tag of tags) steps.set(`${run} ${tag}`, await served.scalarSteps(run, tag));
  }
  return steps;
}

async function lastServed(served: Served, tag: string): Promise<number> {
  let last = -1;
  for (const [run, tags] of await served.tags('scalars').catch(() => new Map<string, string[]>())) {
    if (tags.includes(tag)) last = Math.max(last, ...(await served.scalarSteps(run, tag)));
  }
  return last;
}

test('demo --logdir s3://… end to end, TensorBoard reading the bucket live', { skip, timeout: 900_000 }, async (t) => {
  const bucket = await createTestBucket();
  t.after(() => bucket.remove());
  const logdir = bucket.url('logs');
  const storage = storageFor(logdir);
  const tensorboard = await startTensorBoard(logdir, TENSORBOARD_FLAGS);
  t.after(() => tensorboard.stop());
  const served = new Served(tensorboard.url, tensorboard.output);

  const demo = startCli(['demo', '--logdir', logdir, '--run', RUN, '--val-size', '200']);
  t.after(() => demo.process.kill('SIGKILL'));
  const trainerSteps = new Set<number>();
  let ended = false;
  void demo.exited.then(() => (ended = true));
  while (!ended) {
    trainerSteps.add(await lastServed(served, TRAINER_TAG));
    await sleep(1000);
  }
  assert.deepEqual(await demo.exited, { code: 0, signal: null }, demo.lines.join('\n'));
  const output = demo.lines.join('\n');
  assert.match(output, /timelapse page s3:\/\/.*\/logs\/d\/embeddings\/timelapse\.html/);
  trainerSteps.delete(-1);
  assert.ok(
    trainerSteps.size >= 2,
    `TensorBoard served new training points while the demo ran: ${[...trainerSteps].join(', ')}`,
  );

  // Every checkpoint is a frame; the frames, the GIF and the page are in the bucket.
  const checkpoints = await completeCheckpointSteps(storage, RUN);
  const record = (await readWatcherRecord(storage, `${RUN}/embeddings/state.json`))!;
  assert.deepEqual(
    record.frames.map((frame) => frame.step),
    checkpoints,
  );
  for (const key of ['embeddings/images/animation.gif', 'embeddings/timelapse.html', 'embeddings/page/index.js']) {
    assert.ok(await storage.exists(`${RUN}/${key}`), key);
  }

  // TensorBoard catches up within a few reloads: every frame byte for byte, every scalar point.
  let inBucket = await scalarsInBucket(storage);
  let onServer = await scalarsServed(served);
  const same = () => JSON.stringify([...inBucket].sort()) === JSON.stringify([...onServer].sort());
  for (const deadline = Date.now() + 15 * RELOAD_INTERVAL_SECONDS * 1000; !same() && Date.now() < deadline;) {
    await sleep(1000);
    inBucket = await scalarsInBucket(storage);
    onServer = await scalarsServed(served);
  }
  assert.ok(inBucket.has(`${RUN} ${TRAINER_TAG}`), [...inBucket.keys()].join(', '));
  assert.deepEqual([...onServer].sort(), [...inBucket].sort(), 'every scalar point in the bucket is served');
  const images = await served.images(`${RUN}/embeddings`, FRAME_TAG);
  assert.deepEqual(
    images.map((image) => image.step),
    checkpoints,
  );
  for (const image of images) {
    const png = await storage.read(`${RUN}/embeddings/images/step-${String(image.step).padStart(9, '0')}.png`);
    assert.ok((await served.bytes(image.path)).equals(png), `frame of step ${image.step}`);
  }
});
