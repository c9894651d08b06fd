/**
 * A run killed after its last checkpoint has written points past it; resuming from the
 * checkpoint must not write those steps again (TensorBoard would draw the curve back over
 * itself, and `inspect` would exit 1). Simulated on a tiny model and synthetic data: the
 * checkpoints after step 16 are removed, as if the process died before writing them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '../../src/backend/index.ts';
import { readEvents, summarizeLogdir } from '../../src/tensorboard/index.ts';
import { ProgressBar } from '../../src/train/progress.ts';
import { train, type TrainOptions } from '../../src/train/loop.ts';
import { syntheticCifar } from './fixtures.ts';

const quiet = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
const dataset = syntheticCifar(96, 20);

/** Every step written for `tag`, in the order of the run's event files. */
async function stepsOf(runDir: string, tag: string): Promise<number[]> {
  const events = await readEvents(runDir);
  return events.filter((e) => e.summary?.value?.some((v) => v.tag === tag)).map((e) => Number(e.step));
}

test('resuming twice from a checkpoint older than the last written step writes each step once', async (t) => {
  await initBackend('wasm', { log: () => undefined });
  const logdir = await mkdtemp(join(tmpdir(), 'et-resume-steps-'));
  t.after(() => rm(logdir, { recursive: true, force: true }));
  const options: TrainOptions = {
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
    checkpointEvery: 16,
    logEvery: 1,
  };
  const hooks = (stopAt?: number) => {
    const controller = new AbortController();
    return {
      progress: new ProgressBar(quiet),
      log: () => undefined,
      signal: controller.signal,
      onStep: ({ samplesSeen }: { samplesSeen: number }) => {
        if (stopAt !== undefined && samplesSeen >= stopAt) controller.abort();
      },
    };
  };
  const runDir = join(logdir, 'k');
  const lose = (...steps: number[]) =>
    Promise.all(
      steps.map((s) => rm(join(runDir, 'checkpoints', `step-${String(s).padStart(9, '0')}`), { recursive: true })),
    );

  await train(options, dataset, hooks(48));
  await lose(32, 48);
  await train({ ...options, resume: true }, dataset, hooks(40));
  await lose(32, 40);
  await train({ ...options, resume: true }, dataset, hooks());

  const loss = await stepsOf(runDir, 'train/loss');
  assert.deepEqual(loss, [8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96], 'each step once, in order');
  const resumed = await stepsOf(runDir, 'run/resumed');
  assert.equal(resumed.length, 2, 'both resumes are recorded');
  assert.ok(resumed[1]! > resumed[0]!, `run/resumed steps increase: ${resumed.join(', ')}`);
  const [summary] = await summarizeLogdir(runDir);
  for (const tag of summary!.tags) assert.equal(tag.stepsOutOfOrder, 0, `${tag.tag} has steps out of order`);
});
