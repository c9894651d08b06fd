/**
 * `watch --logdir s3://…` on the real Ceph gateway: checkpoints uploaded as the trainer uploads
 * them (writeWithManifest), the watcher as a process with a fresh working copy (another machine),
 * and every output checked in the bucket, read back with the project's own readers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { configuredEndpoint, storageFor, type Storage } from '../../src/storage/index.ts';
import { CLI, until } from '../helpers/cli.ts';
import { CuttableProxy } from '../helpers/cuttable-proxy.ts';
import { startPrivateGateway } from '../helpers/private-gateway.ts';
import { Served } from '../tensorboard-live/helpers/served.ts';
import { startTensorBoard } from '../tensorboard-live/helpers/tensorboard-server.ts';
import { needs } from '../helpers/requirements.ts';
import { createTestBucket, readOnlyUser, skipWithoutRadosgwAdmin, type TestBucket } from '../helpers/s3.ts';
import { WATCHER_TAGS, assertFramesEverywhere } from './helpers/inspect-run.ts';
import { downloadRun, runS3Watcher, startS3Watcher, uploadFakeCheckpoint } from './helpers/s3-run.ts';

const VAL = 200;
const skip = needs('s3');

async function bucketFor(t: import('node:test').TestContext): Promise<{ bucket: TestBucket; storage: Storage }> {
  const bucket = await createTestBucket();
  t.after(() => bucket.remove());
  return { bucket, storage: storageFor(bucket.url('logs')) };
}

/** Every frame once in state.json, in the event files, in the GIF; each frame's files present. */
async function assertFramesInBucket(
  t: import('node:test').TestContext,
  storage: Storage,
  run: string,
  steps: number[],
) {
  const runDir = await downloadRun(t, storage, run);
  await assertFramesEverywhere(runDir, steps);
  await access(join(runDir, 'embeddings', 'timelapse.html'));
  await access(join(runDir, 'embeddings', 'page', 'index.js'));
  await access(join(runDir, 'projector_config.pbtxt'));
  return runDir;
}

test(
  'watch s3://: every complete checkpoint becomes a frame in the bucket; one without manifest is not read',
  { skip },
  async (t) => {
    const { bucket, storage } = await bucketFor(t);
    for (const [k, step] of [100, 200, 300].entries()) await uploadFakeCheckpoint(storage, 'r', step, k + 1);
    // Uploaded but not sealed: the trainer is still writing it.
    await storage.write('r/checkpoints/step-000000400/checkpoint.json', '{"format": 1, "step": 400}');
    const first = await runS3Watcher(bucket.url('logs'), VAL);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    await assertFramesInBucket(t, storage, 'r', [100, 200, 300]);
    const state = JSON.parse((await storage.read('r/embeddings/state.json')).toString()) as { skipped: unknown[] };
    assert.deepEqual(state.skipped, []);
    // Nothing left to draw in that run: --once --run says so and exits 0.
    const again = await startS3Watcher(bucket.url('logs'), VAL, {}, ['r']).done;
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal(again.lines.filter((line) => line.event === 'frame').length, 0);
  },
);

test(
  'a watcher SIGKILLed after any upload, restarted with a fresh working copy, loses and doubles nothing in the bucket',
  { skip },
  async (t) => {
    const { bucket, storage } = await bucketFor(t);
    const steps = [100, 200, 300, 400, 500, 600, 700, 800];
    for (const [k, step] of steps.entries()) await uploadFakeCheckpoint(storage, 'r', step, k + 1);
    // First a process killed right after an upload of each kind, in the order a frame uploads
    // them; then processes killed after their 1st, 2nd or 3rd upload in turn until one finishes.
    // Each starts from the bucket alone (a fresh working copy).
    const kinds = ['/projector/', '/images/step-', 'animation.gif', '/frames/', 'projector_config', 'tfevents'];
    const afterCommit = ['state.json', '/page/frames', '/page/index.js'];
    const killedAfter: string[] = [];
    for (let attempt = 0; attempt < 60; attempt++) {
      const targeted = [...kinds, ...afterCommit][attempt];
      const env: Record<string, string> = targeted
        ? { KILL_AFTER_KEY: targeted }
        : { KILL_AFTER_PUT: String(1 + (attempt % 3)) };
      const result = await runS3Watcher(bucket.url('logs'), VAL, { ...env, LEASE_TTL_MS: '600' });
      const drawn = result.lines.filter((line) => line.event === 'frame').length;
      // A frame redone after a kill, then at most the next one's first uploads.
      if (!targeted)
        assert.ok(drawn <= 1, `one process drew ${drawn} frames before its ${env.KILL_AFTER_PUT}th upload`);
      if (result.signal !== 'SIGKILL') {
        assert.equal(result.code, 0, result.stdout + result.stderr);
        assert.equal(
          targeted,
          undefined,
          `the process meant to be killed after ${targeted} finished: ${killedAfter.join(' ')}`,
        );
        break;
      }
      const upload = result.lines.filter((line) => line.type === 'uploaded').at(-1);
      killedAfter.push(String(upload?.key));
    }
    for (const part of [...kinds, ...afterCommit]) {
      assert.ok(
        killedAfter.some((key) => key.includes(part)),
        `killed after an upload of ${part}: ${killedAfter.join(' ')}`,
      );
    }
    await assertFramesInBucket(t, storage, 'r', steps);
    const finalRun = await runS3Watcher(bucket.url('logs'), VAL);
    assert.equal(finalRun.code, 0);
    assert.equal(finalRun.lines.filter((line) => line.event === 'frame').length, 0, 'nothing left to draw');
  },
);

/** The steps state.json in the bucket has drawn so far. */
async function bucketFrames(storage: Storage, run = 'r'): Promise<number[]> {
  const data = await storage.read(`${run}/embeddings/state.json`).catch(() => null);
  return data ? (JSON.parse(data.toString()) as { frames: { step: number }[] }).frames.map((f) => f.step) : [];
}

test(
  'two watchers of one run: one draws, the other waits for its lease and takes over once it is SIGKILLed',
  { skip },
  async (t) => {
    const { bucket, storage } = await bucketFor(t);
    for (const [k, step] of [100, 200].entries()) await uploadFakeCheckpoint(storage, 'r', step, k + 1);
    const env = { LIVE: '1', LEASE_TTL_MS: '1500', RELEASE_IDLE_MS: '600000' };
    const first = startS3Watcher(bucket.url('logs'), VAL, env);
    t.after(() => first.kill());
    await until('the first watcher drew both frames', async () => (await bucketFrames(storage)).length === 2, 60);
    const second = startS3Watcher(bucket.url('logs'), VAL, env);
    t.after(() => second.kill());
    await until('the second watcher polls', () => second.output().includes('watching s3://'), 60);
    // The holder draws what comes next; the other one does not.
    await uploadFakeCheckpoint(storage, 'r', 300, 3);
    await until('the first watcher drew step 300', async () => (await bucketFrames(storage)).includes(300), 60);
    first.kill('SIGKILL');
    assert.equal((await first.done).signal, 'SIGKILL');
    // The dead watcher's lease is still there: the second one waits for it to expire, then takes over.
    await uploadFakeCheckpoint(storage, 'r', 400, 4);
    await until('the second watcher waits for the lease', () => /is held by .*waiting/.test(second.output()), 60);
    await until('the second watcher took over', async () => (await bucketFrames(storage)).includes(400), 60);
    second.kill('SIGTERM');
    const ended = await second.done;
    assert.equal(ended.code, 0, ended.stdout + ended.stderr);
    assert.deepEqual(
      ended.lines.filter((line) => line.event === 'frame').map((line) => line.step),
      [400],
      'the second watcher drew only what came after the first one died',
    );
    await assertFramesInBucket(t, storage, 'r', [100, 200, 300, 400]);
  },
);

test('a live watcher releases an idle run and claims it again for its next checkpoint', { skip }, async (t) => {
  const { bucket, storage } = await bucketFor(t);
  await uploadFakeCheckpoint(storage, 'r', 100, 1);
  const env = { LIVE: '1', RELEASE_IDLE_MS: '500', CHAIN_IDLE_SECONDS: '0.2', LEASE_TTL_MS: '3000' };
  const watcher = startS3Watcher(bucket.url('logs'), VAL, env);
  t.after(() => watcher.kill());
  await until('step 100 drawn', async () => (await bucketFrames(storage)).includes(100), 60);
  const released = async () => {
    const lease = await storage.read('r/embeddings/.watcher-lease').catch(() => null);
    return lease !== null && (JSON.parse(lease.toString()) as { released?: boolean }).released === true;
  };
  await until('the idle run released', released, 60);
  // Claimed again: the working copy is replaced by the bucket's, and the run goes on from there.
  await uploadFakeCheckpoint(storage, 'r', 200, 2);
  await until('step 200 drawn', async () => (await bucketFrames(storage)).includes(200), 60);
  watcher.kill('SIGTERM');
  const ended = await watcher.done;
  assert.equal(ended.code, 0, ended.stdout + ended.stderr);
  assert.equal(ended.lines.filter((line) => line.event === 'frame').length, 2);
  await assertFramesInBucket(t, storage, 'r', [100, 200]);
});

interface StoreAway {
  /** The endpoint the watcher talks to. */
  endpoint: string;
  away(): void | Promise<void>;
  back(): Promise<void>;
}

/** The store goes away in the middle of frame 200's uploads and comes back 4 s later. */
async function drawsThroughAnOutage(t: import('node:test').TestContext, store: StoreAway): Promise<void> {
  const { bucket, storage } = await bucketFor(t);
  for (const [k, step] of [100, 200, 300].entries()) await uploadFakeCheckpoint(storage, 'r', step, k + 1);
  // Held for 2 s after frame 200's picture is uploaded, so the store is away before its next upload.
  const watcher = startS3Watcher(bucket.url('logs'), VAL, {
    AWS_ENDPOINT_URL: store.endpoint,
    S3_ENDPOINT: store.endpoint,
    HOLD_AFTER_KEY: 'images/step-000000200.png:2000',
  });
  t.after(() => watcher.kill());
  await until('frame 200 is being uploaded', () => watcher.output().includes('images/step-000000200.png'), 60);
  await store.away();
  await new Promise((resolve) => setTimeout(resolve, 4000));
  await store.back();
  const result = await watcher.done;
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /is not answering .*retrying with backoff/);
  assert.match(result.stdout, /answers again after/);
  assert.deepEqual(
    result.lines.filter((line) => line.event === 'frame').map((line) => line.step),
    [100, 200, 300],
  );
  await assertFramesInBucket(t, storage, 'r', [100, 200, 300]);
}

test(
  'the store cut away during a frame and back: the watcher carries on, the frame is drawn once',
  { skip },
  async (t) => {
    // A proxy in front of the gateway, cut (connections reset, port closed) and restored: what a
    // dead gateway looks like to the watcher, without stopping the gateway other test files use.
    const proxy = new CuttableProxy(new URL(configuredEndpoint()!));
    await proxy.start();
    t.after(() => proxy.cut());
    await drawsThroughAnOutage(t, {
      endpoint: `http://127.0.0.1:${proxy.port}`,
      away: () => proxy.cut(),
      back: () => proxy.start(),
    });
  },
);

test(
  'the gateway SIGKILLed during a frame and started again: the watcher carries on, the frame is drawn once',
  { skip },
  async (t) => {
    // A gateway of this test's own: killing the shared one would fail the test files running beside it.
    const gateway = await startPrivateGateway();
    const shared = { ...process.env };
    Object.assign(process.env, gateway.env);
    const restore = async () => {
      for (const key of Object.keys(gateway.env)) {
        if (shared[key] === undefined) delete process.env[key];
        else process.env[key] = shared[key];
      }
      await gateway.stop();
    };
    try {
      await drawsThroughAnOutage(t, {
        endpoint: gateway.endpoint,
        away: () => gateway.kill(),
        back: async () => gateway.start(),
      });
    } finally {
      // Hooks run in the order they were added: the bucket is removed first, then the gateway stops.
      t.after(restore);
    }
  },
);

test(
  'a damaged checkpoint (a sum that does not match) is one line and a recorded skip; the others are drawn',
  { skip },
  async (t) => {
    const { bucket, storage } = await bucketFor(t);
    for (const [k, step] of [100, 200, 300].entries()) await uploadFakeCheckpoint(storage, 'r', step, k + 1);
    await storage.write('r/checkpoints/step-000000200/checkpoint.json', '{"format": 1, "step": 200, "damaged": true}');
    const result = await runS3Watcher(bucket.url('logs'), VAL);
    // As for a damaged checkpoint on disk: a skipped step, not a run left alone.
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const skips = result.lines.filter((line) => line.event === 'skipped');
    assert.equal(skips.length, 1, result.stdout);
    assert.equal(skips[0]!.step, 200);
    const reason = /step-000000200\/checkpoint\.json: .*manifest\.json says .*damaged/;
    assert.match(String(skips[0]!.reason), reason);
    assert.ok(!String(skips[0]!.reason).includes('\n'));
    assert.doesNotMatch(result.stdout + result.stderr, /\n\s+at /, 'no stack trace');
    await assertFramesInBucket(t, storage, 'r', [100, 300]);
    const state = JSON.parse((await storage.read('r/embeddings/state.json')).toString()) as {
      skipped: { step: number; reason: string }[];
    };
    assert.deepEqual(
      state.skipped.map((entry) => entry.step),
      [200],
    );
    assert.match(state.skipped[0]!.reason, reason);
    // The bucket remembers it: the next watcher neither downloads it again nor says it again.
    const again = await runS3Watcher(bucket.url('logs'), VAL);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal(again.lines.filter((line) => line.event === 'skipped').length, 0, again.stdout);
    assert.equal(again.lines.filter((line) => line.event === 'frame').length, 0, again.stdout);
  },
);

test(
  'a read-only key is one line that says so, never the secret, and nothing is written',
  { skip: skip || skipWithoutRadosgwAdmin() },
  async (t) => {
    const { bucket, storage } = await bucketFor(t);
    await uploadFakeCheckpoint(storage, 'r', 100, 1);
    const reader = await readOnlyUser(t, bucket);
    const result = await runS3Watcher(bucket.url('logs'), VAL, {
      AWS_ACCESS_KEY_ID: reader.accessKeyId,
      AWS_SECRET_ACCESS_KEY: reader.secretAccessKey,
    });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const errors = result.lines.filter((line) => line.event === 'error').map((line) => String(line.message));
    assert.equal(errors.length, 1, result.stdout);
    assert.match(errors[0]!, /^cannot claim run 'r': cannot create .*access denied; this key may not write there/);
    assert.ok(!(result.stdout + result.stderr).includes(reader.secretAccessKey), 'the secret is never printed');
    assert.deepEqual(
      (await storage.list('r/')).map((info) => info.key),
      ['r/checkpoints/step-000000100/checkpoint.json', 'r/checkpoints/step-000000100/manifest.json'],
    );
  },
);

test(
  'watch s3:// with a missing bucket, wrong credentials or no such run: one line from the CLI, exit 2',
  { skip },
  async (t) => {
    const { bucket } = await bucketFor(t);
    const secret = `wrong-${randomBytes(8).toString('hex')}`;
    const cases: [Record<string, string>, string[], RegExp][] = [
      [
        {},
        ['--logdir', 's3://et-missing-bucket-5c1d/logs'],
        /^embedding-timelapse: cannot list .*bucket 'et-missing-bucket-5c1d' does not exist/,
      ],
      [
        { AWS_SECRET_ACCESS_KEY: secret },
        ['--logdir', bucket.url('logs')],
        /SignatureDoesNotMatch.*check AWS_ACCESS_KEY_ID/,
      ],
      [
        {},
        ['--logdir', bucket.url('logs'), '--run', 'nosuch'],
        /^embedding-timelapse: no run 'nosuch' in s3:\/\/.*check --run/,
      ],
    ];
    for (const [env, args, pattern] of cases) {
      const result = spawnSync(process.execPath, [CLI, 'watch', '--once', ...args], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(result.status, 2, result.stdout + result.stderr);
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, pattern);
      assert.ok(!(result.stdout + result.stderr).includes(secret));
    }
  },
);

test(
  'the real TensorBoard reading the bucket serves every frame point once, across a killed and a restarted watcher',
  { skip: needs('s3', 'boto3', 'tensorboard'), timeout: 240_000 },
  async (t) => {
    const { bucket, storage } = await bucketFor(t);
    const tensorboard = await startTensorBoard(bucket.url('logs'), []);
    t.after(() => tensorboard.stop());
    const served = new Served(tensorboard.url, tensorboard.output);
    for (const [k, step] of [100, 200, 300].entries()) await uploadFakeCheckpoint(storage, 'r', step, k + 1);
    // Killed right after the first frame's points went up, before its state.json: the next one redoes it.
    const killed = await runS3Watcher(bucket.url('logs'), VAL, { KILL_AFTER_KEY: 'tfevents', LEASE_TTL_MS: '1000' });
    assert.equal(killed.signal, 'SIGKILL');
    const finished = await runS3Watcher(bucket.url('logs'), VAL, { LEASE_TTL_MS: '1000' });
    assert.equal(finished.code, 0, finished.stdout + finished.stderr);
    const steps = [100, 200, 300];
    for (const tag of WATCHER_TAGS.filter((tag) => tag !== 'embeddings/tsne')) {
      await until(
        `TensorBoard to serve ${tag}`,
        async () => (await served.scalarSteps('r/embeddings', tag).catch(() => [])).join() === steps.join(),
        90,
      );
    }
    const images = await served.images('r/embeddings', 'embeddings/tsne');
    assert.deepEqual(
      images.map((image) => image.step),
      steps,
    );
  },
);
