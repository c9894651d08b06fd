/**
 * Chains are opened only when they have work and released when idle: a log directory of finished
 * runs costs no locks and no page writes, and a second watcher can draw a run the first is not
 * working on. A bug in a stage is not the user's data: it is not recorded as a skip, and the step
 * is drawn after a restart. A chain is one model: a checkpoint of another architecture is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { runPaths } from '../../src/layout.ts';
import type { WatcherOptions } from '../../src/watch/daemon.ts';
import { pathExists } from '../../src/util/exists.ts';
import { TransientError, UserError, describeFsError } from '../../src/errors.ts';
import { fakeStages, writeFakeCheckpoint } from './helpers/fake-stages.ts';
import { tempLogdir, testWatcher } from './helpers/test-watcher.ts';
import { stateOf } from './helpers/inspect-run.ts';

const VAL = 100;
const FAKE_WATCHER = new URL('./helpers/fake-watcher.ts', import.meta.url).pathname;

const watcher = (logdir: string, extra: Partial<WatcherOptions> = {}) => testWatcher(logdir, VAL, extra);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 800; i++) {
    if (await check()) return;
    await sleep(25);
  }
  assert.fail(`timed out waiting for ${what}`);
}

const framesOf = async (runDir: string) =>
  (await stateOf(runDir).catch(() => ({ frames: [] as { step: number }[] }))).frames.map((f) => f.step);

test('30 finished runs and a live one: no lock held and no page written for the finished ones', async (t) => {
  const logdir = await tempLogdir(t);
  const finished = Array.from({ length: 30 }, (_, k) => `done-${String(k).padStart(2, '0')}`);
  for (const [k, run] of finished.entries()) await writeFakeCheckpoint(logdir, run, 100, k % 10);
  assert.deepEqual(await watcher(logdir).w.run(), { frames: 30, skipped: 0, failedRuns: [] });
  const pageTimes = new Map<string, number>();
  for (const run of finished) pageTimes.set(run, (await stat(runPaths(join(logdir, run)).page)).mtimeMs);

  const live = watcher(logdir, { once: false, pollSeconds: 0.05 });
  const running = live.w.run();
  const liveDir = join(logdir, 'live');
  for (const [k, step] of [100, 200, 300].entries()) {
    await writeFakeCheckpoint(logdir, 'live', step, k);
    await until(`live frame ${step}`, async () => (await framesOf(liveDir)).includes(step));
    // The live run is open (its lock held) while it has frames coming; the finished ones are not.
    assert.equal(await pathExists(runPaths(liveDir).lock), true, 'the live run is locked while drawn');
    for (const run of finished) {
      assert.equal(await pathExists(runPaths(join(logdir, run)).lock), false, `no lock of ${run}`);
    }
  }
  live.w.stop();
  assert.deepEqual(await running, { frames: 3, skipped: 0, failedRuns: [] });
  for (const run of finished) {
    const page = (await stat(runPaths(join(logdir, run)).page)).mtimeMs;
    assert.equal(page, pageTimes.get(run), `the page of ${run} was not written again`);
  }
  assert.deepEqual(live.errors, []);
});

test('a second watcher draws a run the first one is not working on', async (t) => {
  const logdir = await tempLogdir(t);
  await writeFakeCheckpoint(logdir, 'a', 100, 0);
  await writeFakeCheckpoint(logdir, 'b', 100, 1);
  let reached: () => void = () => undefined;
  const reachedA = new Promise<void>((resolve) => (reached = resolve));
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const first = watcher(logdir, {
    once: false,
    pollSeconds: 0.05,
    releaseIdleSeconds: 0,
    // The first watcher is kept busy on run a's second frame while the second draws run b.
    onStage: async (run, step, stage) => {
      if (run === 'a' && step === 200 && stage === 'tsne') {
        reached();
        await gate;
      }
    },
  });
  const running = first.w.run();
  await until('both first frames', async () => (await framesOf(join(logdir, 'b'))).length === 1);
  await until('run a drawn', async () => (await framesOf(join(logdir, 'a'))).length === 1);
  await writeFakeCheckpoint(logdir, 'a', 200, 2);
  await reachedA;
  assert.equal(await pathExists(runPaths(join(logdir, 'b')).lock), false, 'idle run b is released');

  await writeFakeCheckpoint(logdir, 'b', 200, 3);
  const second = spawn(process.execPath, ['--import', 'tsx', FAKE_WATCHER, logdir, String(VAL), 'b'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  second.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => second.on('close', resolve));
  assert.equal(status, 0, stderr);
  assert.deepEqual(await framesOf(join(logdir, 'b')), [100, 200]);

  open();
  await until('run a frame 200', async () => (await framesOf(join(logdir, 'a'))).includes(200));
  first.w.stop();
  // The first watcher drew a's frames and b's first; b's second was the other watcher's.
  assert.deepEqual(await running, { frames: 3, skipped: 0, failedRuns: [] });
  assert.deepEqual(first.errors, []);
});

test('a bug in a stage is not a recorded skip: that run stops with one line, a restart draws the step', async (t) => {
  const logdir = await tempLogdir(t);
  for (const [k, step] of [100, 200, 300].entries()) await writeFakeCheckpoint(logdir, 'r', step, k);
  await writeFakeCheckpoint(logdir, 'other', 100, 5);
  const log = { loaded: [] as string[], inits: [] };
  const stages = fakeStages(log);
  const embed = stages.embed.bind(stages);
  stages.embed = async (validation) => {
    // Run r's step 200 meets a bug of the engine.
    if (log.loaded.at(-1)!.endsWith(join('r', 'checkpoints', 'step-000000200'))) {
      throw new TypeError("Cannot read properties of undefined (reading 'dims')");
    }
    return embed(validation);
  };
  const buggy = watcher(logdir, { stages, run: undefined });
  const summary = await buggy.w.run();
  assert.deepEqual(summary.failedRuns, ['r']);
  assert.equal(summary.skipped, 0);
  assert.deepEqual(await framesOf(join(logdir, 'r')), [100]);
  assert.deepEqual((await stateOf(join(logdir, 'r'))).skipped, [], 'nothing recorded as skipped');
  assert.deepEqual(await framesOf(join(logdir, 'other')), [100], 'the other run is drawn');
  assert.equal(buggy.errors.length, 1, buggy.errors.join('\n'));
  assert.match(buggy.errors[0]!, /^stopped drawing run 'r': unexpected error: Cannot read properties .*--verbose/);
  assert.equal(await pathExists(runPaths(join(logdir, 'r')).lock), false);

  const restarted = watcher(logdir);
  assert.deepEqual(await restarted.w.run(), { frames: 2, skipped: 0, failedRuns: [] });
  assert.deepEqual(await framesOf(join(logdir, 'r')), [100, 200, 300]);
});

test('--verbose adds the stack of an unexpected error', async (t) => {
  const logdir = await tempLogdir(t);
  await writeFakeCheckpoint(logdir, 'r', 100, 0);
  const stages = fakeStages();
  stages.project = () => Promise.reject(new RangeError('bad index 7'));
  const verbose = watcher(logdir, { stages, verbose: true });
  assert.deepEqual(await verbose.w.run(), { frames: 0, skipped: 0, failedRuns: ['r'] });
  assert.equal(verbose.errors.length, 2, verbose.errors.join('\n'));
  assert.match(verbose.errors[0]!, /^stopped drawing run 'r': unexpected error: bad index 7; nothing was recorded/);
  assert.match(verbose.errors[1]!, /^RangeError: bad index 7\n\s+at /);
});

test('a checkpoint of another architecture is refused with one line: a chain is one model', async (t) => {
  const logdir = await tempLogdir(t);
  await writeFakeCheckpoint(logdir, 'r', 100, 0);
  await writeFakeCheckpoint(logdir, 'r', 200, 1, { blocks: [2, 1, 1] });
  await writeFakeCheckpoint(logdir, 'r', 300, 2);
  const { w, errors } = watcher(logdir);
  assert.deepEqual(await w.run(), { frames: 2, skipped: 1, failedRuns: [] });
  assert.deepEqual(await framesOf(join(logdir, 'r')), [100, 300]);
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(
    errors[0]!,
    new RegExp(
      "^skipped r step 000000200: .*step-000000200 is another model \\(blocks 2,1,1 .*\\) than the chain's " +
        'frames \\(blocks 1,1,1 .*\\): a chain is one model',
    ),
  );
});

test('a full disk: a live watcher says so without "start again", and draws the frame once there is room', async (t) => {
  const logdir = await tempLogdir(t);
  await writeFakeCheckpoint(logdir, 'r', 100, 0);
  await writeFakeCheckpoint(logdir, 'other', 100, 1);
  const stages = fakeStages();
  const measure = stages.measure.bind(stages);
  let full = true;
  stages.measure = (...args) => {
    if (full) {
      const enospc = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      throw new UserError(describeFsError(enospc, 'write', join(logdir, 'r', 'embeddings', 'frames', 'x.tsv')));
    }
    return measure(...args);
  };
  const live = watcher(logdir, { stages, once: false, pollSeconds: 0.05, retryRunSeconds: 0.05 });
  const running = live.w.run();
  await until('the full disk reported', async () => live.errors.length > 0);
  full = false;
  // Either run may be the one still waiting out its retry, so wait for both.
  await until('frames drawn', async () => {
    const drawn = await Promise.all(['r', 'other'].map(async (run) => (await framesOf(join(logdir, run))).length));
    return drawn.every((frames) => frames === 1);
  });
  live.w.stop();
  assert.deepEqual(await running, { frames: 2, skipped: 0, failedRuns: [] });
  // Each run that met the full disk says so once (which ones depends on timing).
  assert.ok(live.errors.length >= 1 && live.errors.length <= 2, live.errors.join('\n'));
  for (const line of live.errors) {
    assert.match(
      line,
      /^leaving run '(other|r)' alone: cannot write .*: the disk is full; free some space; this watcher/,
    );
    assert.doesNotMatch(line, /start again/);
  }
});

test('a step not readable yet (TransientError) is not recorded; a live watcher draws it when it is', async (t) => {
  const logdir = await tempLogdir(t);
  await writeFakeCheckpoint(logdir, 'r', 100, 0);
  const stages = fakeStages();
  const load = stages.load.bind(stages);
  let ready = false;
  stages.load = async (dir) => {
    if (!ready) throw new TransientError(`${dir}/weights.bin is still being written`);
    return load(dir);
  };
  const live = watcher(logdir, { stages, once: false, pollSeconds: 0.05 });
  const running = live.w.run();
  await until('the step tried', async () => live.errors.length > 0);
  assert.equal(await pathExists(runPaths(join(logdir, 'r')).state), false, 'nothing recorded');
  ready = true;
  await until('the frame drawn', async () => (await framesOf(join(logdir, 'r'))).length === 1);
  live.w.stop();
  assert.deepEqual(await running, { frames: 1, skipped: 0, failedRuns: [] });
  assert.deepEqual((await stateOf(join(logdir, 'r'))).skipped, []);
  assert.equal(live.errors.length, 1, live.errors.join('\n'));
  assert.match(live.errors[0]!, /weights\.bin is still being written; trying again later$/);
});
