/**
 * The real TensorBoard 2.21 as a user runs it: started FIRST on an empty log directory with the
 * flags the README recommends, then a short training run with the watcher beside it (both
 * through the CLI). While they run, TensorBoard is polled over HTTP as its web page does; after
 * they end, everything they wrote is compared with what TensorBoard serves, and Chromium shows
 * the Images dashboard and the Projector (screenshots in test-artifacts/tensorboard/).
 * About two minutes on 2 cores.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TENSORBOARD_FLAGS, tensorboardCommand } from '../../src/tensorboard/command.ts';
import {
  isPng,
  lastStepsByTag,
  listRuns,
  parseProjectorConfig,
  readRunEvents,
  scalarOf,
} from '../../src/tensorboard/index.ts';
import { runPaths } from '../../src/layout.ts';
import { needs } from '../helpers/requirements.ts';
import { stateOf } from '../watch/helpers/inspect-run.ts';
import { openBrowser, pixelsPerLegendColour, showImageStep, showProjectorTensor } from './helpers/browser.ts';
import { startCli, type CliChild } from '../helpers/cli.ts';
import { Served } from './helpers/served.ts';
import { RELOAD_INTERVAL_SECONDS, startTensorBoard } from './helpers/tensorboard-server.ts';

const RUN = 'live';
const VAL = 200;
const TRAINER_TAG = 'train/loss';
const WATCHER_TAG = 'embeddings/knn_preservation';
const FRAME_TAG = 'embeddings/tsne';
/** "Within a few reload intervals": generous for a loaded 2-core machine. */
const LIVE_BOUND_SECONDS = 6 * RELOAD_INTERVAL_SECONDS;

type Writer = 'trainer' | 'watcher';
const TAG_OF: Record<Writer, string> = { trainer: TRAINER_TAG, watcher: WATCHER_TAG };

interface Sample {
  seconds: number;
  /** Highest step of the writer's tag in the event files on disk, and as TensorBoard serves it. */
  disk: Record<Writer, number>;
  served: Record<Writer, number>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The highest step of `tag` over every run on disk (-1 when none yet). */
async function diskLastStep(logdir: string, tag: string): Promise<number> {
  let last = -1;
  for (const run of await listRuns(logdir)) last = Math.max(last, (await lastStepsByTag(run.dir)).get(tag) ?? -1);
  return last;
}

async function servedLastStep(served: Served, tag: string): Promise<number> {
  let last = -1;
  for (const [run, tags] of await served.tags('scalars')) {
    if (tags.includes(tag)) last = Math.max(last, ...(await served.scalarSteps(run, tag)));
  }
  return last;
}

async function observe(logdir: string, served: Served, started: number): Promise<Sample> {
  const seconds = (performance.now() - started) / 1000;
  // What an open TensorBoard page asks too: the plugin list (on load) and the projector's runs.
  await served.json('data/plugins_listing');
  await served.projectorRuns();
  const disk = { trainer: await diskLastStep(logdir, TRAINER_TAG), watcher: await diskLastStep(logdir, WATCHER_TAG) };
  const trainer = await servedLastStep(served, TRAINER_TAG);
  const onServer = { trainer, watcher: await servedLastStep(served, WATCHER_TAG) };
  return { seconds, disk, served: onServer };
}

/**
 * For each new step of the writer's tag seen on disk, how long TensorBoard took to serve it
 * (Infinity: not by the last sample).
 */
function catchUpDelays(samples: Sample[], writer: Writer): { step: number; delay: number }[] {
  const delays: { step: number; delay: number }[] = [];
  let seen = -1;
  samples.forEach((sample, i) => {
    const step = sample.disk[writer];
    if (step <= seen) return;
    seen = step;
    const caught = samples.slice(i).find((later) => later.served[writer] >= step);
    delays.push({ step, delay: caught ? caught.seconds - sample.seconds : Infinity });
  });
  return delays;
}

/** The distinct steps TensorBoard served for the writer's tag up to `until` (seconds). */
function servedWhileRunning(samples: Sample[], writer: Writer, until: number): number[] {
  const steps = samples.filter((s) => s.seconds <= until && s.served[writer] >= 0).map((s) => s.served[writer]);
  return [...new Set(steps)];
}

/** Steps of every scalar tag in one run directory's event files, in file order. */
async function diskScalarSteps(runDir: string): Promise<Map<string, number[]>> {
  const steps = new Map<string, number[]>();
  for (const event of await readRunEvents(runDir)) {
    for (const value of event.summary?.value ?? []) {
      if (scalarOf(value) === undefined) continue;
      const tag = value.tag ?? '';
      steps.set(tag, [...(steps.get(tag) ?? []), event.step]);
    }
  }
  return steps;
}

/** Served scalar steps per "run tag", and the same read from disk. */
async function scalarsServedAndOnDisk(logdir: string, served: Served) {
  const onServer = new Map<string, number[]>();
  for (const [run, tags] of await served.tags('scalars')) {
    for (const tag of tags) onServer.set(`${run} ${tag}`, await served.scalarSteps(run, tag));
  }
  const onDisk = new Map<string, number[]>();
  for (const run of await listRuns(logdir)) {
    for (const [tag, steps] of await diskScalarSteps(run.dir)) onDisk.set(`${run.name} ${tag}`, steps);
  }
  return { onServer, onDisk };
}

function sameSteps(a: Map<string, number[]>, b: Map<string, number[]>): boolean {
  return a.size === b.size && [...a].every(([key, steps]) => JSON.stringify(b.get(key)) === JSON.stringify(steps));
}

async function checkpointSteps(runDir: string): Promise<number[]> {
  const names = await readdir(join(runDir, 'checkpoints'));
  return names
    .filter((n) => /^step-\d{9}$/.test(n))
    .map((n) => Number(n.slice(5)))
    .sort((a, b) => a - b);
}

/** The run TensorBoard lists `tag` under for `plugin` (exactly one is expected). */
async function runWithTag(served: Served, plugin: string, tag: string): Promise<string> {
  const runs = [...(await served.tags(plugin))].filter(([, tags]) => tags.includes(tag)).map(([run]) => run);
  assert.equal(runs.length, 1, `runs with ${plugin} tag ${tag}: ${JSON.stringify(runs)}`);
  return runs[0]!;
}

test(
  'the real TensorBoard, started first, serves training and watcher live and whole',
  {
    skip: needs('tensorboard', 'cifar', 'chromium'),
    timeout: 480_000,
  },
  async (t) => {
    const root = await mkdtemp(join(tmpdir(), 'tensorboard-live-'));
    const logdir = join(root, 'logs');
    await mkdir(logdir);
    const children: CliChild[] = [];
    const tensorboard = await startTensorBoard(logdir, TENSORBOARD_FLAGS);
    t.after(async () => {
      for (const child of children) child.process.kill('SIGKILL');
      await tensorboard.stop();
      await rm(root, { recursive: true, force: true });
    });
    const served = new Served(tensorboard.url, tensorboard.output);
    const paths = runPaths(join(logdir, RUN));

    // As in two terminals, after TensorBoard: the watcher, then the trainer.
    const watcher = startCli([
      'watch',
      '--logdir',
      logdir,
      '--run',
      RUN,
      '--val-size',
      String(VAL),
      '--poll',
      '0.5',
      '--inference-threads',
      '1',
    ]);
    children.push(watcher);
    const trainer = startCli([
      'train',
      '--logdir',
      logdir,
      '--run',
      RUN,
      '--blocks',
      '1,1,1',
      '--max-samples',
      '2400',
      '--checkpoint-every',
      '200',
      '--val-samples',
      String(VAL),
      '--batch-size',
      '64',
      '--log-every',
      '1',
      '--data',
      process.env.CIFAR10_PATH!,
    ]);
    children.push(trainer);

    const started = performance.now();
    const samples: Sample[] = [];
    let trainingDone = false;
    void trainer.exited.then(() => (trainingDone = true));
    while (!trainingDone) {
      samples.push(await observe(logdir, served, started));
      await sleep(1000);
    }
    const trainingEnd = (performance.now() - started) / 1000;
    assert.equal((await trainer.exited).code, 0, trainer.lines.join('\n'));

    // The watcher draws the checkpoints left, TensorBoard still polled meanwhile.
    const checkpoints = await checkpointSteps(paths.runDir);
    const handled = async () => {
      const state = await stateOf(paths.runDir).catch(() => null);
      return state ? state.frames.length + state.skipped.length : 0;
    };
    for (const deadline = Date.now() + 120_000; (await handled()) < checkpoints.length;) {
      if (Date.now() > deadline || watcher.process.exitCode !== null) {
        assert.fail(`the watcher did not draw every checkpoint:\n${watcher.lines.join('\n')}`);
      }
      samples.push(await observe(logdir, served, started));
      await sleep(1000);
    }
    const watchingEnd = (performance.now() - started) / 1000;
    // The last points get their full time too: sampled until served, or the bound has passed.
    const caughtUp = (sample: Sample) =>
      (['trainer', 'watcher'] as const).every((w) => sample.served[w] >= sample.disk[w]);
    const deadline = Date.now() + LIVE_BOUND_SECONDS * 1000;
    while (!caughtUp(samples.at(-1)!) && Date.now() < deadline) {
      await sleep(1000);
      samples.push(await observe(logdir, served, started));
    }
    watcher.process.kill('SIGTERM');
    assert.deepEqual(await watcher.exited, { code: 0, signal: null }, watcher.lines.join('\n'));
    const frames = (await stateOf(paths.runDir)).frames.map((frame) => frame.step);
    assert.deepEqual(frames, checkpoints, 'a frame for every checkpoint');
    assert.ok(frames.length > 10, `${frames.length} frames: more than TensorBoard's default 10 images per tag`);

    await t.test("train and watch print the README's tensorboard command", () => {
      for (const child of [trainer, watcher]) {
        assert.ok(
          child.lines.some((line) => line.includes(tensorboardCommand(logdir))),
          child.lines.join('\n'),
        );
      }
    });

    await t.test(`live: new points of trainer and watcher are served within ${LIVE_BOUND_SECONDS} s`, (live) => {
      for (const [writer, until] of [
        ['trainer', trainingEnd],
        ['watcher', watchingEnd],
      ] as const) {
        const delays = catchUpDelays(samples, writer);
        const timeline = samples.map((s) => [Math.round(s.seconds), s.disk[writer], s.served[writer]]);
        const tag = TAG_OF[writer];
        const report = `${tag}: delays ${JSON.stringify(delays)}; [s, on disk, served] ${JSON.stringify(timeline)}`;
        const worst = Math.max(...delays.map((d) => d.delay)).toFixed(1);
        const early = servedWhileRunning(samples, writer, until);
        live.diagnostic(
          `${tag}: ${delays.length} new points on disk, each served within ${worst} s; ` +
            `${early.length} different last steps served while the ${writer} ran`,
        );
        for (const { delay } of delays) assert.ok(delay <= LIVE_BOUND_SECONDS, report);
        assert.ok(early.length >= 2, `no new points served while the ${writer} ran: ${report}`);
      }
    });

    // The last writes reach TensorBoard within a few reload intervals.
    let scalars = await scalarsServedAndOnDisk(logdir, served);
    const caughtUpBy = Date.now() + 10 * RELOAD_INTERVAL_SECONDS * 1000;
    while (!sameSteps(scalars.onServer, scalars.onDisk) && Date.now() < caughtUpBy) {
      await sleep(1000);
      scalars = await scalarsServedAndOnDisk(logdir, served);
    }

    await t.test('every scalar tag of trainer and watcher is served whole, steps strictly increasing', () => {
      const keys = [...scalars.onDisk.keys()];
      for (const tag of [TRAINER_TAG, WATCHER_TAG]) {
        assert.ok(
          keys.some((key) => key.endsWith(` ${tag}`)),
          keys.join(', '),
        );
      }
      for (const [key, steps] of scalars.onDisk) {
        const servedSteps = scalars.onServer.get(key) ?? [];
        const counts = `${servedSteps.length} of the ${steps.length} points on disk`;
        assert.deepEqual(servedSteps, steps, `${key}: served ${counts}`);
        servedSteps.forEach((step, i) => {
          assert.ok(i === 0 || step > servedSteps[i - 1]!, `${key}: step ${step} after ${servedSteps[i - 1]}`);
        });
      }
      assert.deepEqual([...scalars.onServer.keys()].sort(), keys.sort(), 'no tag served that is not on disk');
    });

    await t.test(`every checkpoint's frame is served under ${FRAME_TAG}, byte for byte`, async () => {
      const run = await runWithTag(served, 'images', FRAME_TAG);
      const images = await served.images(run, FRAME_TAG);
      assert.deepEqual(
        images.map((image) => image.step),
        frames,
      );
      for (const image of images) {
        const onDisk = await readFile(paths.imageFile(image.step));
        assert.ok((await served.bytes(image.path)).equals(onDisk), `frame of step ${image.step}`);
      }
    });

    const browser = await openBrowser();
    t.after(() => browser.close());

    await t.test('the Images dashboard shows the frame of the first and of the last step', async () => {
      const ends = [
        ['Home', frames[0]!, 'images-first-step.png'],
        ['End', frames.at(-1)!, 'images-last-step.png'],
      ] as const;
      for (const [key, step, file] of ends) {
        const shown = await showImageStep(browser.page, tensorboard.url, FRAME_TAG, key, file);
        assert.equal(shown.step, step, `slider at ${key}`);
        assert.ok(shown.png.equals(await readFile(paths.imageFile(step))), `the card shows the frame of step ${step}`);
      }
    });

    // TensorBoard's projector reads projector_config.pbtxt again only when the set of runs changes
    // (2.21, without TensorFlow checkpoints): the steps drawn after that need a restart. Here the
    // run <run>/embeddings appeared with the first frame, so the first frame's entries are listed.
    const config = parseProjectorConfig(await readFile(join(paths.runDir, 'projector_config.pbtxt'), 'utf8'));
    const onDisk = (config.embeddings ?? []).map((e) => e.tensor_name);
    // Until it has read a config for the run at all, it answers 400 "Unknown run".
    const liveEntries = await served.projectorEntries(RUN).then(
      (entries) => entries.map((e) => e.tensorName),
      () => [],
    );
    t.diagnostic(
      `projector entries served by the TensorBoard started first: ${liveEntries.length} of ${onDisk.length}`,
    );
    assert.deepEqual(liveEntries, onDisk.slice(0, liveEntries.length), 'served entries: a prefix of the config');
    await tensorboard.stop();
    const second = await startTensorBoard(logdir, TENSORBOARD_FLAGS);
    t.after(() => second.stop());
    const restarted = new Served(second.url, second.output);

    await t.test('the projector (after a restart) lists every entry, with tensor, metadata and sprite', async () => {
      assert.deepEqual(await restarted.projectorRuns(), [RUN]);
      const entries = await restarted.projectorEntries(RUN);
      assert.deepEqual(
        entries.map((e) => e.tensorName),
        onDisk,
      );
      assert.equal(entries.length, 2 * frames.length);
      for (const entry of entries) {
        const [rows, columns] = entry.tensorShape;
        assert.equal(rows, VAL, entry.tensorName);
        // The projector's PCA needs 3 columns: with 2 it shows "NaN%" and draws nothing (measured).
        assert.ok(columns! >= 3, `${entry.tensorName}: ${columns} columns`);
        const tensor = await restarted.projectorFile('tensor', RUN, entry.tensorName);
        assert.equal(tensor.length, rows! * columns! * 4, `${entry.tensorName}: float32 bytes`);
        const metadata = (await restarted.projectorFile('metadata', RUN, entry.tensorName)).toString('utf8');
        const rowsAndHeader = metadata.trimEnd().split('\n').length;
        assert.equal(rowsAndHeader, VAL + 1, `${entry.tensorName}: metadata rows and the header`);
        const sprite = await restarted.projectorFile('sprite_image', RUN, entry.tensorName);
        assert.ok(isPng(sprite), `${entry.tensorName}: sprite`);
      }
    });

    await t.test('the Projector draws the last t-SNE frame, coloured by class', async (drawn) => {
      const last = String(frames.at(-1)!).padStart(9, '0');
      const screenshot = 'projector-tsne-last-step.png';
      const view = await showProjectorTensor(browser.page, second.url, `tsne:step-${last}`, 'class', screenshot);
      assert.equal(view.points, VAL);
      assert.equal(view.legend.length, 10, JSON.stringify(view.legend));
      assert.equal(
        view.legend.reduce((sum, entry) => sum + entry.count, 0),
        VAL,
      );
      const pixels = pixelsPerLegendColour(view.canvas, view.legend);
      drawn.diagnostic(`canvas pixels per class colour: ${JSON.stringify(Object.fromEntries(pixels))}`);
      const coloured = [...pixels].filter(([, count]) => count >= 50);
      assert.ok(coloured.length >= 6, `class colours on the canvas (pixels per class): ${JSON.stringify([...pixels])}`);
    });
  },
);
