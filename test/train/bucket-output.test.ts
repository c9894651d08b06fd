/**
 * The order in which a training run on object storage writes (no gateway needed: a local folder
 * behind the storage interface, every write recorded): the run's own files before its first
 * checkpoint's manifest, each manifest after every file it names, only the newest checkpoint
 * left in the working folder, and a resume that reads the steps already written from the store.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index.ts';
import { LocalStorage } from '../../src/storage/local.ts';
import type { Storage } from '../../src/storage/storage.ts';
import { readManifest, writeWithManifest } from '../../src/storage/manifest.ts';
import { isUserError } from '../../src/errors.ts';
import { decodeEventBytes } from '../../src/tensorboard/event-reader.ts';
import { BucketRunOutput } from '../../src/train/bucket-output.ts';
import { WORK_DIR_MARK, prepareBucketRun } from '../../src/train/bucket-run.ts';
import { ProgressBar } from '../../src/train/progress.ts';
import { train, type TrainOptions } from '../../src/train/loop.ts';
import { syntheticCifar } from './fixtures.ts';

await initBackend('wasm', { log: () => undefined });

const quiet = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
const dataset = syntheticCifar(96, 40);

/** The storage, with the key of every write (whole or conditional) in order. */
function recording(storage: Storage): { storage: Storage; writes: string[] } {
  const writes: string[] = [];
  const wrapped: Storage = Object.create(storage) as Storage;
  wrapped.write = (key, data) => (writes.push(key), storage.write(key, data));
  wrapped.createIfAbsent = (key, data) => (writes.push(key), storage.createIfAbsent(key, data));
  wrapped.replaceIfUnchanged = (key, data, etag) => (writes.push(key), storage.replaceIfUnchanged(key, data, etag));
  return { storage: wrapped, writes };
}

function options(logdir: string, resume: boolean, epochs: number): TrainOptions {
  return {
    logdir,
    run: 'r',
    epochs,
    blocks: [1],
    widths: [8],
    stemChannels: 8,
    batchSize: 16,
    learningRate: 1e-2,
    seed: 3,
    checkpointEvery: 32,
    logEvery: 2,
    resume,
    dataSource: 'synthetic',
  };
}

async function trainInto(storage: Storage, epochs: number, resume: boolean): Promise<string[]> {
  const work = await prepareBucketRun(storage, { run: 'r', resume, log: () => undefined });
  try {
    const output = new BucketRunOutput(storage, 'r');
    await train(options(work.workLogdir, resume, epochs), dataset, {
      progress: new ProgressBar(quiet),
      log: () => undefined,
      output,
    });
    const left = await readdir(join(work.workLogdir, 'r', 'checkpoints'));
    assert.equal(output.uploads.length, resume ? 3 : 4);
    return left;
  } finally {
    await work.dispose();
  }
}

test('a run on object storage: events before the first manifest, each manifest last, one local copy', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'et-bucket-output-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const { storage, writes } = recording(new LocalStorage(dir));

  const left = await trainInto(storage, 1, false);
  assert.deepEqual(left, ['step-000000096'], 'only the newest checkpoint stays in the working folder');
  const firstManifest = writes.findIndex((key) => key.endsWith('/manifest.json'));
  const firstEvents = writes.findIndex((key) => /^r\/events\.out\.tfevents\./.test(key));
  assert.ok(firstEvents >= 0 && firstEvents < firstManifest, writes.join('\n'));
  const manifests = writes.filter((key) => key.endsWith('/manifest.json'));
  assert.deepEqual(
    manifests,
    [0, 32, 64, 96].map((s) => `r/checkpoints/step-${String(s).padStart(9, '0')}/manifest.json`),
  );
  for (const manifestKey of manifests) {
    const folder = manifestKey.slice(0, -'/manifest.json'.length);
    const manifest = (await readManifest(storage, folder))!;
    const at = writes.indexOf(manifestKey);
    for (const { name } of manifest.files) {
      const written = writes.indexOf(`${folder}/${name}`);
      assert.ok(written >= 0 && written < at, `${folder}/${name} before its manifest`);
    }
  }

  // The epoch's validation point (step 96) is uploaded before the checkpoint of step 96 is complete.
  const lastManifest = writes.indexOf('r/checkpoints/step-000000096/manifest.json');
  const tagsBefore = new Set<string>();
  for (const key of writes.slice(0, lastManifest).filter((k) => /^r\/events\.out\.tfevents\./.test(k))) {
    for (const event of decodeEventBytes(await storage.read(key), key)) {
      for (const value of event.summary?.value ?? []) tagsBefore.add(`${value.tag}@${event.step}`);
    }
  }
  assert.ok(tagsBefore.has('validation/accuracy@96'), [...tagsBefore].join(' '));
  assert.ok(tagsBefore.has('run/options@0'));

  // Resumed for a second epoch from the store: the steps already written are not written again.
  writes.length = 0;
  await trainInto(storage, 2, true);
  const eventFiles = writes.filter((key) => /^r\/events\.out\.tfevents\./.test(key));
  assert.ok(eventFiles.length >= 1);
  assert.ok(
    !writes.some((key) => key.startsWith('r/checkpoints/step-000000096/')),
    'the resume point is not uploaded again',
  );
});

test('starting a run: cut-off uploads deleted, checkpoints need --resume, a foreign --work-dir refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'et-bucket-run-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const storage = new LocalStorage(join(dir, 'store'));
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  await storage.write('r/checkpoints/step-000000032/weights.bin', 'cut off');

  await assert.rejects(
    prepareBucketRun(storage, { run: 'r', resume: true, log }),
    (error) =>
      isUserError(error) &&
      /--resume: no complete checkpoint in .*r\/checkpoints \(1 upload\(s\) without manifest\.json, cut off\)/.test(
        error.message,
      ),
  );
  const fresh = await prepareBucketRun(storage, { run: 'r', resume: false, log });
  await fresh.dispose();
  assert.match(lines[0]!, /^deleting .*step-000000032: an upload cut off before its manifest\.json$/);
  assert.deepEqual(await storage.list('r/'), []);
  assert.ok(!existsSync(fresh.workLogdir), 'the temporary working folder is removed');

  await writeWithManifest(storage, 'r/checkpoints/step-000000000', new Map([['checkpoint.json', Buffer.from('{}')]]));
  await assert.rejects(
    prepareBucketRun(storage, { run: 'r', resume: false, log }),
    (error) => isUserError(error) && /already has 1 checkpoint\(s\); pass --resume/.test(error.message),
  );

  const work = join(dir, 'work');
  await mkdir(join(work, 'r', 'checkpoints', 'step-000000000'), { recursive: true });
  await assert.rejects(
    prepareBucketRun(storage, { run: 'r', resume: true, workDir: work, log }),
    (error) =>
      isUserError(error) && /--work-dir .*holds checkpoints that 'train' did not put there/.test(error.message),
  );
  assert.ok(existsSync(join(work, 'r', 'checkpoints', 'step-000000000')), "the user's folder is left alone");
  // A working folder of an earlier `train`: its copies give way to the checkpoint in the store.
  await writeFile(join(work, WORK_DIR_MARK), '');
  const resumed = await prepareBucketRun(storage, { run: 'r', resume: true, workDir: work, log });
  await resumed.dispose();
  assert.equal(resumed.resumeFrom, join(work, 'r', 'checkpoints', 'step-000000000'));
  assert.deepEqual(await readdir(resumed.resumeFrom), ['checkpoint.json']);
});
