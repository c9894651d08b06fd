/**
 * A watcher over a whole log directory when one run cannot be drawn (a damaged event file,
 * another watcher's lock): that run is named in one line and left alone, every other run is
 * drawn. And a restart on other validation images than the chain's is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WatcherOptions } from '../../src/watch/daemon.ts';
import { isUserError } from '../../src/errors.ts';
import { fakeStages, writeFakeCheckpoint } from './helpers/fake-stages.ts';
import { tempLogdir, testWatcher } from './helpers/test-watcher.ts';
import { gifSteps, stateOf } from './helpers/inspect-run.ts';
import { pathExists } from '../../src/util/exists.ts';

const VAL = 100;

const watcher = (logdir: string, extra: Partial<WatcherOptions> = {}) => testWatcher(logdir, VAL, extra);

/** Flips one byte in the middle of every event file of the run: a CRC mismatch for the reader. */
async function corruptEventFiles(runDir: string): Promise<number> {
  let damaged = 0;
  for (const name of await readdir(runDir, { recursive: true })) {
    if (!String(name).includes('tfevents')) continue;
    const path = join(runDir, String(name));
    const bytes = await readFile(path);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(path, bytes);
    damaged++;
  }
  return damaged;
}

test('one run with a corrupt event file is left alone with one line; the other runs are all drawn', async (t) => {
  const logdir = await tempLogdir(t);
  await writeFakeCheckpoint(logdir, 'r', 100, 1);
  await watcher(logdir, { run: 'r' }).w.run();
  assert.ok((await corruptEventFiles(join(logdir, 'r'))) > 0, 'the watcher wrote an event file for r');
  await writeFakeCheckpoint(logdir, 'r', 200, 2);
  // 'g' is served before 'r' and again after it (round robin), 'h' between them.
  for (const [k, step] of [100, 200, 300].entries()) await writeFakeCheckpoint(logdir, 'g', step, k);
  await writeFakeCheckpoint(logdir, 'h', 50, 4);
  // A run not drawn yet whose (older layout) watcher event file is damaged: nothing may be left in it.
  await writeFakeCheckpoint(logdir, 'q', 10, 5);
  await writeFile(join(logdir, 'q', 'events.out.tfevents.1.host.watcher'), Buffer.alloc(64, 7));

  const { w, errors } = watcher(logdir);
  assert.deepEqual(await w.run(), { frames: 4, skipped: 0, failedRuns: ['q', 'r'] });
  assert.deepEqual(
    (await stateOf(join(logdir, 'g'))).frames.map((f) => f.step),
    [100, 200, 300],
  );
  assert.deepEqual(await gifSteps(join(logdir, 'g')), [100, 200, 300]);
  assert.deepEqual(
    (await stateOf(join(logdir, 'h'))).frames.map((f) => f.step),
    [50],
  );
  assert.equal(errors.length, 2, errors.join('\n'));
  assert.match(
    errors[0]!,
    /^leaving run 'q' alone: corrupt event file .*tfevents\.1\.host\.watcher: .*byte offset 0; move the file/,
  );
  assert.match(errors[1]!, /^leaving run 'r' alone: corrupt event file .* CRC mismatch .*; move the file/);
  // Run r keeps what it had, and neither run keeps a lock or an empty embeddings folder.
  assert.deepEqual(
    (await stateOf(join(logdir, 'r'))).frames.map((f) => f.step),
    [100],
  );
  assert.equal(await pathExists(join(logdir, 'r', 'embeddings', 'watcher.lock')), false);
  assert.equal(await pathExists(join(logdir, 'q', 'embeddings')), false);
});

test('a run locked by another watcher is left alone, the others drawn; a live watcher takes it later', async (t) => {
  const logdir = await tempLogdir(t);
  await writeFakeCheckpoint(logdir, 'g', 100, 1);
  await writeFakeCheckpoint(logdir, 'h', 100, 2);
  const lock = join(logdir, 'g', 'embeddings', 'watcher.lock');
  await mkdir(join(logdir, 'g', 'embeddings'), { recursive: true });
  // Our parent process is alive and is not us: it stands for `watch --run g`.
  await writeFile(lock, `${process.ppid}\n`);

  const once = watcher(logdir);
  assert.deepEqual(await once.w.run(), { frames: 1, skipped: 0, failedRuns: ['g'] });
  assert.equal(once.errors.length, 1);
  assert.match(
    once.errors[0]!,
    new RegExp(`^leaving run 'g' alone: run 'g' is already being drawn by another watcher \\(process ${process.ppid}`),
  );
  assert.equal(await readFile(lock, 'utf8'), `${process.ppid}\n`, 'the other watcher keeps its lock');

  const live = watcher(logdir, { once: false, pollSeconds: 0.05, retryRunSeconds: 0.05 });
  const running = live.w.run();
  for (let i = 0; i < 400 && live.errors.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
  await unlink(lock);
  for (let i = 0; i < 400; i++) {
    if ((await stateOf(join(logdir, 'g')).catch(() => null))?.frames.length === 1) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  live.w.stop();
  assert.deepEqual(await running, { frames: 1, skipped: 0, failedRuns: [] });
  assert.equal(live.errors.length, 1, 'the lock is reported once, not at every retry');
});

test('--once --run for a run that is not there is a one-line mistake naming the runs there', async (t) => {
  const logdir = await tempLogdir(t);
  await writeFakeCheckpoint(logdir, 'real', 10, 1);
  await assert.rejects(
    watcher(logdir, { run: 'nosuchrun' }).w.run(),
    (error) =>
      isUserError(error) &&
      /^no run 'nosuchrun' in .*logs \(runs with checkpoints: real\); check --run and --logdir$/.test(
        (error as Error).message,
      ),
  );
});

test('a watcher that cannot load its data leaves no embeddings folder behind', async (t) => {
  const logdir = await tempLogdir(t);
  await writeFakeCheckpoint(logdir, 'r', 10, 1);
  const stages = fakeStages();
  stages.validation = async () => {
    throw new (await import('../../src/errors.ts')).UserError('CIFAR-10 data not found at /nowhere');
  };
  await assert.rejects(watcher(logdir, { run: 'r', stages }).w.run(), /CIFAR-10 data not found/);
  assert.equal(await pathExists(join(logdir, 'r', 'embeddings')), false);
});

test('a restart on other validation images is refused; an old state file gets the fingerprint', async (t) => {
  const logdir = await tempLogdir(t);
  await writeFakeCheckpoint(logdir, 'r', 10, 1);
  await watcher(logdir).w.run();
  const statePath = join(logdir, 'r', 'embeddings', 'state.json');
  type State = { validationFingerprint?: string };
  const fingerprintOnDisk = async () => (JSON.parse(await readFile(statePath, 'utf8')) as State).validationFingerprint;
  const recorded = await fingerprintOnDisk();
  assert.match(recorded ?? '', /^sha256:[0-9a-f]{64}$/);

  await writeFakeCheckpoint(logdir, 'r', 20, 2);
  const other = watcher(logdir, { run: 'r', stages: fakeStages(undefined, { pixelOffset: 1 }) });
  await assert.rejects(
    other.w.run(),
    (error) =>
      isUserError(error) &&
      !(error as Error).message.includes('\n') &&
      /state\.json continues a chain drawn from other test images .*use that data again, or move the embeddings/.test(
        (error as Error).message,
      ),
  );
  assert.deepEqual(
    (await stateOf(join(logdir, 'r'))).frames.map((f) => f.step),
    [10],
  );

  // A state file from before fingerprints: accepted, and the fingerprint recorded from now on.
  const old = JSON.parse(await readFile(statePath, 'utf8')) as State;
  delete old.validationFingerprint;
  await writeFile(statePath, JSON.stringify(old));
  assert.deepEqual(await watcher(logdir).w.run(), { frames: 1, skipped: 0, failedRuns: [] });
  assert.equal(await fingerprintOnDisk(), recorded);
});
