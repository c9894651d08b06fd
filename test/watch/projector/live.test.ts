/**
 * A live watcher while a PyTorch run is being written: the steps of `basic/` are copied into an
 * empty run one by one, in the order PyTorch's writer uses (metadata, sprite, tensors in two
 * writes, then the whole config rewritten in two writes, none of it atomic).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { needs } from '../../helpers/requirements.ts';
import { until } from '../../helpers/cli.ts';
import { PYTORCH_RUNS, pytorchEntry, temporaryDir } from './helpers.ts';
import { chainDir, chainEventSteps, chainGifSteps, chainState, projectorWatcher } from './helpers-watch.ts';

const STEPS = [0, 1280, 2560, 5120];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function framesOf(dir: string): Promise<number[]> {
  return chainState(dir).then(
    (state) => state.frames.map((f) => f.step),
    () => [],
  );
}

/** Writes `bytes` to `path` in two writes with a pause between, as a non-atomic writer leaves it. */
async function writeInTwo(path: string, bytes: Buffer, pauseMs: number): Promise<void> {
  const half = Math.floor(bytes.length / 2);
  await writeFile(path, bytes.subarray(0, half));
  await sleep(pauseMs);
  await writeFile(path, bytes);
}

test(
  "every step of a run being written becomes a frame once, none before PyTorch's config lists " + 'it',
  { skip: needs('shared') },
  async () => {
    const logdir = await temporaryDir('projector-live-');
    const run = join(logdir, 'exp');
    await mkdir(run, { recursive: true });
    const { watcher, errors } = projectorWatcher(logdir, { once: false, pollSeconds: 0.2, settleSeconds: 3 });
    const running = watcher.run();
    const dir = chainDir(run, 'default');
    try {
      let config = '';
      for (const [k, step] of STEPS.entries()) {
        const folder = String(step).padStart(5, '0');
        const from = join(PYTORCH_RUNS, 'basic', folder, 'default');
        const to = join(run, folder, 'default');
        await mkdir(to, { recursive: true });
        for (const name of ['metadata.tsv', 'sprite.png'])
          await writeFile(join(to, name), await readFile(join(from, name)));
        await writeInTwo(join(to, 'tensors.tsv'), await readFile(join(from, 'tensors.tsv')), 300);
        if (k === 1) {
          // A step folder that is deleted again before any config lists it never becomes anything.
          const ghost = join(run, '03000', 'default');
          await mkdir(ghost, { recursive: true });
          await writeFile(join(ghost, 'metadata.tsv'), await readFile(join(from, 'metadata.tsv')));
          await writeFile(join(ghost, 'tensors.tsv'), (await readFile(join(from, 'tensors.tsv'))).subarray(0, 5000));
          await sleep(300);
          await rm(join(run, '03000'), { recursive: true });
        }
        // Files written, config not yet: well under the settle time, the step is not drawn.
        await sleep(1000);
        assert.ok(!(await framesOf(dir)).includes(step), `step ${step} was drawn before the config listed it`);
        config += pytorchEntry('default', step, { sprite: [32, 32] });
        await writeInTwo(join(run, 'projector_config.pbtxt'), Buffer.from(config), 200);
        await until(`the frame of step ${step}`, async () => (await framesOf(dir)).includes(step), 30);
      }
      await sleep(4000);
    } finally {
      watcher.stop();
      await running;
    }
    assert.deepEqual(await framesOf(dir), STEPS);
    assert.deepEqual((await chainState(dir)).skipped, []);
    assert.deepEqual(await chainGifSteps(dir), STEPS);
    assert.deepEqual((await chainEventSteps(dir)).get('embeddings/tsne'), STEPS);
    assert.ok(!errors.some((line) => /03000/.test(line)), errors.join('\n'));
  },
);
