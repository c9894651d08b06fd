/**
 * `--resume` keeps the run's own schedule and step size (the reproduction, on a tiny
 * model and synthetic data): checkpoints every N samples go on every N samples after a resume,
 * and an option given again changes the run from there on, said in one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index.ts';
import { readCheckpointMeta, type CheckpointMeta } from '../../src/model/checkpoint.ts';
import { readEvents, scalarOf } from '../../src/tensorboard/index.ts';
import { ProgressBar } from '../../src/train/progress.ts';
import { train, type TrainOptions } from '../../src/train/loop.ts';
import { DEFAULT_LEARNING_RATE, DEFAULT_LOG_EVERY, resumedSchedule } from '../../src/train/settings.ts';
import { syntheticCifar } from './fixtures.ts';

const quiet = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
const dataset = syntheticCifar(96, 20);

async function steps(runDir: string): Promise<number[]> {
  const names = await readdir(join(runDir, 'checkpoints'));
  return names
    .map((n) => Number(/^step-(\d{9})$/.exec(n)?.[1] ?? NaN))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
}

async function lossSteps(runDir: string): Promise<number[]> {
  const found: number[] = [];
  for (const event of await readEvents(runDir)) {
    for (const value of event.summary?.value ?? [])
      if (value.tag === 'train/loss' && scalarOf(value) !== undefined) found.push(Number(event.step));
  }
  return found.sort((a, b) => a - b);
}

test('a resumed run keeps its --checkpoint-every, --log-every and --lr; one given again is said', async (t) => {
  await initBackend('wasm', { log: () => undefined });
  const logdir = await mkdtemp(join(tmpdir(), 'et-resume-'));
  t.after(() => rm(logdir, { recursive: true, force: true }));
  const base: TrainOptions = {
    logdir,
    run: 'k',
    epochs: 1,
    blocks: [1],
    widths: [8],
    stemChannels: 8,
    batchSize: 8,
    seed: 1,
    resume: false,
    dataSource: 'synthetic',
  };
  const lines: string[] = [];
  const hooks = (stopAt?: number) => {
    const controller = new AbortController();
    return {
      progress: new ProgressBar(quiet),
      log: (line: string) => lines.push(line),
      signal: controller.signal,
      onStep: ({ samplesSeen }: { samplesSeen: number }) => {
        if (stopAt !== undefined && samplesSeen >= stopAt) controller.abort();
      },
    };
  };

  // Interrupted once step 32 is written, as the reproduction interrupts after step-000000512.
  await train({ ...base, checkpointEvery: 16, logEvery: 1, learningRate: 5e-3 }, dataset, hooks(32));
  const runDir = join(logdir, 'k');
  assert.deepEqual(await steps(runDir), [0, 16, 32]);

  // `train --resume`: none of the three options given.
  lines.length = 0;
  await train({ ...base, resume: true, epochs: undefined }, dataset, hooks());
  assert.deepEqual(
    await steps(runDir),
    [0, 16, 32, 48, 64, 80, 96],
    'checkpoints every 16 samples, as before the resume',
  );
  assert.deepEqual(await lossSteps(runDir), [8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96], 'a loss point every step');
  const resumed = await readCheckpointMeta(join(runDir, 'checkpoints', 'step-000000096'));
  assert.deepEqual([resumed.run?.learningRate, resumed.run?.logEvery, resumed.run?.checkpointEvery], [5e-3, 1, 16]);
  assert.equal(lines.filter((line) => /resuming with/.test(line)).length, 0, 'nothing changed, nothing said');

  // One more epoch with --log-every 4 given again: used from here on, and said in one line.
  lines.length = 0;
  await train({ ...base, resume: true, epochs: 2, logEvery: 4 }, dataset, hooks());
  assert.deepEqual(
    lines.filter((line) => /resuming with/.test(line)),
    ['resuming with --log-every 4 (the run had 1), as asked'],
  );
  assert.deepEqual(
    (await steps(runDir)).filter((s) => s > 96),
    [112, 128, 144, 160, 176, 192],
  );
  assert.deepEqual(
    (await lossSteps(runDir)).filter((s) => s > 96),
    [128, 160, 192],
  );
  const last = await readCheckpointMeta(join(runDir, 'checkpoints', 'step-000000192'));
  assert.deepEqual([last.run?.learningRate, last.run?.logEvery, last.run?.checkpointEvery], [5e-3, 4, 16]);
});

test('a checkpoint from before the schedule was recorded resumes with the options given or the defaults', () => {
  const meta = { run: { run: 'old', epochs: 2, learningRate: 3e-4, backend: 'wasm' } } as unknown as CheckpointMeta;
  const base = { logdir: 'l', run: 'old', resume: true, dataSource: 'x' };
  assert.deepEqual(resumedSchedule(base, meta), {
    schedule: { learningRate: 3e-4, logEvery: DEFAULT_LOG_EVERY, checkpointEvery: null },
    changed: [],
  });
  assert.deepEqual(resumedSchedule({ ...base, checkpointEvery: 100, logEvery: 2 }, meta).schedule, {
    learningRate: 3e-4,
    logEvery: 2,
    checkpointEvery: 100,
  });
  // The default schedule recorded as such (null) is kept, and a change of it is said.
  const withDefault = {
    run: { learningRate: DEFAULT_LEARNING_RATE, logEvery: 5, checkpointEvery: null },
  } as unknown as CheckpointMeta;
  assert.deepEqual(resumedSchedule(base, withDefault).schedule.checkpointEvery, null);
  assert.deepEqual(resumedSchedule({ ...base, checkpointEvery: 500 }, withDefault).changed, [
    '--checkpoint-every 500 (the run had the default schedule)',
  ]);
});
