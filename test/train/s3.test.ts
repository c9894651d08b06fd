/**
 * `train --logdir s3://…` and `export-onnx s3://…` as a user runs them, against the real Ceph
 * gateway: checkpoints uploaded with their manifests (sums that match), the run's points in
 * rolled event files (each step once, also across a resume), nothing in a local folder named
 * `s3:`, a trainer killed mid-upload that leaves a checkpoint nobody reads and a resume that
 * works, and the faults a user meets as one line each.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTransientError, isUserError } from '../../src/errors.ts';
import { collectOutput } from '../../src/cli/output.ts';
import { run as exportOnnx } from '../../src/cli/export-onnx.ts';
import { downloadCheckpoint, listStoredCheckpoints } from '../../src/model/checkpoint/stored.ts';
import { configuredEndpoint, storageFor, type Storage } from '../../src/storage/index.ts';
import { readManifest, readWithManifest } from '../../src/storage/manifest.ts';
import { decodeEventBytes } from '../../src/tensorboard/event-reader.ts';
import { isEventFileName } from '../../src/tensorboard/index.ts';
import { REPO_ROOT, runCliToEnd, startCli } from '../helpers/cli.ts';
import { needs } from '../helpers/requirements.ts';
import { createTestBucket, readOnlyUser, skipWithoutRadosgwAdmin, type TestBucket } from '../helpers/s3.ts';
import { CuttableProxy } from '../helpers/cuttable-proxy.ts';
import { writeSyntheticCifarDir } from './fixtures.ts';
import { TENSORBOARD_FLAGS } from '../../src/tensorboard/command.ts';
import { Served } from '../tensorboard-live/helpers/served.ts';
import { startTensorBoard } from '../tensorboard-live/helpers/tensorboard-server.ts';

const skip = needs('s3');
/** 160 training samples, a checkpoint every 32: steps 0, 32, …, 160. */
const STEPS = [0, 32, 64, 96, 128, 160];
const CHECKPOINT_FILES = ['checkpoint.json', 'model.json', 'optimizer.bin', 'optimizer.json', 'weights.bin'];

let dir = '';
let data = '';
let bucket: TestBucket | undefined;

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'et-train-s3-'));
  data = await writeSyntheticCifarDir(join(dir, 'data'), 160, 40);
  bucket = await createTestBucket();
});

after(async () => {
  await bucket?.remove();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function trainArgs(logdir: string, run: string, ...extra: string[]): string[] {
  return [
    'train',
    '--data',
    data,
    '--blocks',
    '1',
    '--batch-size',
    '16',
    '--epochs',
    '1',
    '--checkpoint-every',
    '32',
    '--log-every',
    '2',
    '--backend',
    'wasm',
    '--workers',
    '1',
    '--logdir',
    logdir,
    '--run',
    run,
    ...extra,
  ];
}

/** The environment with the endpoint replaced (e.g. by a proxy in front of the gateway). */
function envWith(overrides: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, ...overrides };
}

function viaProxy(proxy: CuttableProxy): NodeJS.ProcessEnv {
  return envWith({ AWS_ENDPOINT_URL: proxy.endpoint, S3_ENDPOINT: proxy.endpoint });
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Checks every complete checkpoint's files against its manifest (and against what we compute); returns the steps. */
async function checkedSteps(storage: Storage, run: string): Promise<number[]> {
  const { complete, incomplete } = await listStoredCheckpoints(storage, `${run}/checkpoints`);
  assert.deepEqual(
    incomplete.map((c) => c.step),
    [],
  );
  for (const checkpoint of complete) {
    const manifest = await readManifest(storage, checkpoint.folder);
    assert.ok(manifest, checkpoint.folder);
    assert.deepEqual(manifest.files.map((f) => f.name).sort(), CHECKPOINT_FILES);
    for (const entry of manifest.files) {
      const stored = await storage.read(`${checkpoint.folder}/${entry.name}`);
      assert.equal(stored.byteLength, entry.size);
      assert.equal(sha256(stored), entry.sha256, `${checkpoint.folder}/${entry.name}`);
    }
    const files = await readWithManifest(storage, checkpoint.folder);
    const meta = JSON.parse(files.get('checkpoint.json')!.toString()) as { step: number };
    assert.equal(meta.step, checkpoint.step);
  }
  return complete.map((c) => c.step);
}

/** tag → steps, over the run's event files in name order (TensorBoard's order). */
async function stepsByTag(storage: Storage, run: string): Promise<{ files: number; steps: Map<string, number[]> }> {
  const keys = (await storage.list(`${run}/`))
    .map((info) => info.key)
    .filter((key) => !key.slice(run.length + 1).includes('/') && isEventFileName(key));
  const steps = new Map<string, number[]>();
  for (const key of keys.sort()) {
    const events = decodeEventBytes(await storage.read(key), key);
    assert.equal(events[0]?.file_version, 'brain.Event:2', `${key} starts with its own file version record`);
    for (const event of events) {
      for (const value of event.summary?.value ?? []) {
        const list = steps.get(value.tag!) ?? [];
        list.push(Number(event.step));
        steps.set(value.tag!, list);
      }
    }
  }
  return { files: keys.length, steps };
}

function assertEachStepOnce(steps: Map<string, number[]>): void {
  for (const [tag, list] of steps) {
    if (tag === 'run/resumed') continue;
    assert.deepEqual(
      list,
      [...new Set(list)].sort((a, b) => a - b),
      `${tag}: each step once, in order`,
    );
  }
}

test(
  'train --logdir s3://… uploads checkpoints with manifests and rolled event files, nothing local',
  { skip },
  async () => {
    const logdir = bucket!.url('team/logs');
    const work = join(dir, 'tmp-plain');
    await mkdir(work);
    const before = existsSync(join(REPO_ROOT, 's3:'));
    const output = await runCliToEnd(trainArgs(logdir, 'plain'), envWith({ TMPDIR: work }));
    assert.match(output, /run s3:\/\/.*\/team\/logs\/plain: 160 training samples/);
    assert.match(output, /uploaded s3:\/\/.*\/plain\/checkpoints\/step-000000160 \(\d+\.\d MB in \d+\.\d s\)/);
    assert.match(output, /tensorboard --logdir s3:\/\//);

    const storage = storageFor(logdir);
    assert.deepEqual(await checkedSteps(storage, 'plain'), STEPS);
    const { files, steps } = await stepsByTag(storage, 'plain');
    assert.ok(files >= 2, `rolled into ${files} event files`);
    assertEachStepOnce(steps);
    assert.ok((steps.get('train/loss') ?? []).length >= 4, 'train/loss every 2 steps');
    assert.deepEqual(steps.get('validation/accuracy'), [160]);
    assert.deepEqual(steps.get('run/options'), [0]);

    assert.equal(existsSync(join(REPO_ROOT, 's3:')), before, 'no local folder named s3:');
    const left = (await readdir(work)).filter((name) => name.startsWith('embedding-timelapse-'));
    assert.deepEqual(left, [], 'the working folder is removed at exit');
  },
);

test(
  "the real TensorBoard reading s3:// serves every scalar point of the trainer's rolled event files",
  { skip: skip || needs('tensorboard', 'boto3') },
  async (t) => {
    const logdir = bucket!.url('team/logs');
    const { steps } = await stepsByTag(storageFor(logdir), 'plain');
    const scalars = new Map([...steps].filter(([tag]) => tag.startsWith('train/') || tag.startsWith('validation/')));
    assert.ok(scalars.size >= 4, [...steps.keys()].join(', '));
    const tensorboard = await startTensorBoard(logdir, TENSORBOARD_FLAGS);
    t.after(() => tensorboard.stop());
    const served = new Served(tensorboard.url, tensorboard.output);
    const servedSteps = async () => {
      const all = new Map<string, number[]>();
      for (const [run, tags] of await served.tags('scalars')) {
        for (const tag of tags) all.set(`${run} ${tag}`, await served.scalarSteps(run, tag));
      }
      return all;
    };
    const expected = new Map([...scalars].map(([tag, list]) => [`plain ${tag}`, list]));
    const same = (a: Map<string, number[]>) => JSON.stringify([...a].sort()) === JSON.stringify([...expected].sort());
    let onServer = await servedSteps();
    for (let tries = 0; tries < 60 && !same(onServer); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      onServer = await servedSteps();
    }
    assert.deepEqual([...onServer].sort(), [...expected].sort());
  },
);

test(
  'export-onnx reads a checkpoint from s3:// with its sums checked, and writes locally or to the bucket',
  { skip },
  async () => {
    const logdir = bucket!.url('team/logs');
    const storage = storageFor(logdir);
    const checkpoint = `${logdir}/plain/checkpoints/step-000000160`;
    const local = join(dir, 'downloaded');
    await downloadCheckpoint(storage, 'plain/checkpoints/step-000000160', local);
    const fromDisk = join(dir, 'from-disk.onnx');
    assert.equal(await exportOnnx([local, '--out', fromDisk], collectOutput()), 0);

    const out = collectOutput();
    const fromBucket = join(dir, 'from-bucket.onnx');
    assert.equal(await exportOnnx([checkpoint, '--out', fromBucket], out), 0);
    assert.match(out.lines[0]!, /^wrote .*from-bucket\.onnx \(.* step 160, blocks 1\)/);
    const expected = await readFile(fromDisk);
    assert.ok((await readFile(fromBucket)).equals(expected));

    assert.equal(await exportOnnx([checkpoint], collectOutput()), 0);
    assert.ok((await storage.read('plain/checkpoints/step-000000160/model.onnx')).equals(expected));
    assert.equal(await exportOnnx([checkpoint, '--out', `${bucket!.url('models')}/small.onnx`], collectOutput()), 0);
    assert.ok((await storageFor(bucket!.url('models')).read('small.onnx')).equals(expected));

    // A damaged file and a folder without its manifest are one line each.
    const weights = 'plain/checkpoints/step-000000128/weights.bin';
    const original = await storage.read(weights);
    await storage.write(weights, Buffer.concat([original.subarray(1), Buffer.from([original[0]! ^ 1])]));
    await assert.rejects(
      exportOnnx([`${logdir}/plain/checkpoints/step-000000128`], collectOutput()),
      (error) =>
        isUserError(error) && /weights\.bin: .*SHA-256.*damaged/.test(error.message) && !/\n/.test(error.message),
    );
    await storage.write(weights, original);
    await storage.delete('plain/checkpoints/step-000000128/manifest.json');
    await assert.rejects(
      exportOnnx([`${logdir}/plain/checkpoints/step-000000128`], collectOutput()),
      (error) => isTransientError(error) && /is not complete yet \(no manifest\.json\)/.test(error.message),
    );
    await assert.rejects(
      exportOnnx([`${logdir}/plain/checkpoints/step-000000999`], collectOutput()),
      (error) => isUserError(error) && /step-000000999 does not exist/.test(error.message),
    );
    assert.ok(!existsSync(join(REPO_ROOT, 's3:')) && !existsSync('s3:'), 'no local folder named s3:');
  },
);

test(
  'a trainer killed mid-upload leaves a checkpoint without manifest that nobody reads; --resume carries on',
  { skip },
  async (t) => {
    const logdir = bucket!.url('killed/logs');
    const storage = storageFor(logdir);
    const proxy = new CuttableProxy(new URL(configuredEndpoint()!));
    await proxy.start();
    t.after(() => proxy.cut());
    const trainer = startCli(trainArgs(logdir, 'k'), viaProxy(proxy));
    let killedAt: string | undefined;
    proxy.onUpstreamData = (chunk) => {
      // Files go up in name order: checkpoint.json and model.json are in the bucket by now.
      if (!killedAt && /^PUT \S*\/k\/checkpoints\/step-000000064\/optimizer\.bin/m.test(chunk.toString('latin1'))) {
        killedAt = 'step-000000064/optimizer.bin';
        trainer.process.kill('SIGKILL');
      }
    };
    const { signal } = await trainer.exited;
    assert.equal(signal, 'SIGKILL', `killed during the upload of ${killedAt}:\n${trainer.lines.join('\n')}`);

    const { complete, incomplete } = await listStoredCheckpoints(storage, 'k/checkpoints');
    assert.deepEqual(
      complete.map((c) => c.step),
      [0, 32],
    );
    assert.deepEqual(
      incomplete.map((c) => c.step),
      [64],
    );
    assert.ok(await storage.exists('k/checkpoints/step-000000064/checkpoint.json'), 'part of the folder was uploaded');
    await assert.rejects(readWithManifest(storage, 'k/checkpoints/step-000000064'), (error) => isTransientError(error));

    const resumed = await runCliToEnd(trainArgs(logdir, 'k', '--resume'));
    assert.match(
      resumed,
      /deleting s3:\/\/.*\/k\/checkpoints\/step-000000064: an upload cut off before its manifest\.json/,
    );
    assert.match(resumed, /resuming s3:\/\/.*\/k\/checkpoints\/step-000000032: epoch 1 of 1, 32 samples into it/);
    assert.deepEqual(await checkedSteps(storage, 'k'), STEPS);
    const { steps } = await stepsByTag(storage, 'k');
    assertEachStepOnce(steps);
    assert.deepEqual(steps.get('validation/accuracy'), [160]);
  },
);

test('the gateway away mid-upload: one line while away, one when back, every checkpoint whole', { skip }, async (t) => {
  const logdir = bucket!.url('away/logs');
  const proxy = new CuttableProxy(new URL(configuredEndpoint()!));
  await proxy.start();
  t.after(() => proxy.cut());
  let cut = false;
  proxy.onUpstreamData = (chunk) => {
    if (cut || !/^PUT \S*\/step-000000064\/weights\.bin/m.test(chunk.toString('latin1'))) return;
    cut = true;
    setImmediate(() => proxy.cut());
    setTimeout(() => void proxy.start(), 2000);
  };
  const output = await runCliToEnd(trainArgs(logdir, 'a'), viaProxy(proxy));
  assert.ok(cut, 'the gateway was cut during an upload');
  const away = output.split('\n').filter((line) => /is not answering/.test(line));
  assert.equal(away.length, 1, output);
  assert.match(
    away[0]!,
    /^s3: http:\/\/127\.0\.0\.1:\d+ is not answering \(\w+\) on write s3:\/\/.*retrying with backoff/,
  );
  assert.equal(output.split('\n').filter((line) => /answers again after/.test(line)).length, 1, output);
  assert.deepEqual(await checkedSteps(storageFor(logdir), 'a'), STEPS);
});

/** The lines of a failed `train`: exit 2, one `embedding-timelapse:` line, no stack, no secret. */
async function oneLineFailure(
  args: string[],
  env: NodeJS.ProcessEnv,
  secret?: string,
): Promise<{ line: string; output: string }> {
  const child = startCli(args, env);
  const { code } = await child.exited;
  const output = child.lines.join('\n');
  assert.equal(code, 2, output);
  const errors = child.lines.filter((line) => line.startsWith('embedding-timelapse:'));
  assert.equal(errors.length, 1, output);
  assert.ok(!/^\s+at /m.test(output) && !/unexpected error/.test(output), output);
  if (secret) assert.ok(!output.includes(secret), 'the secret is never printed');
  return { line: errors[0]!, output };
}

test(
  'a missing bucket and wrong credentials: one line each from train, before any data is read',
  { skip },
  async () => {
    const missing = await oneLineFailure(trainArgs('s3://et-missing-bucket-5c1d/logs', 'm'), process.env);
    assert.match(missing.line, /bucket 'et-missing-bucket-5c1d' does not exist.*aws s3 mb/);
    assert.doesNotMatch(missing.output, /CIFAR-10 from/, 'answered before the data is read');
    const secret = `wrong-${randomBytes(8).toString('hex')}`;
    const wrong = await oneLineFailure(
      trainArgs(bucket!.url('creds'), 'w'),
      envWith({ AWS_SECRET_ACCESS_KEY: secret }),
      secret,
    );
    assert.match(wrong.line, /SignatureDoesNotMatch.*AWS_SECRET_ACCESS_KEY/);
    assert.doesNotMatch(wrong.output, /CIFAR-10 from/, 'answered before the data is read');
  },
);

test(
  'a read-only key: train stops with one line saying the key may not write',
  { skip: skip || skipWithoutRadosgwAdmin() },
  async (t) => {
    const { accessKeyId, secretAccessKey } = await readOnlyUser(t, bucket!);
    const { line } = await oneLineFailure(
      trainArgs(bucket!.url('readonly'), 'r'),
      envWith({ AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey }),
      secretAccessKey,
    );
    assert.match(line, /cannot (write|create) s3:\/\/.*\/readonly\/r\/.*access denied; this key may not write there/);
    assert.deepEqual(await storageFor(bucket!.url('readonly')).list(''), [], 'nothing was written');
  },
);
