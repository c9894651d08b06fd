/**
 * End to end, on real CIFAR-10: the watcher started first, a short training run beside it, the
 * watcher SIGKILLed in the middle of a frame and started again, then a corrupt checkpoint
 * followed by a good one. Everything the watcher wrote is then read back and checked.
 * A few minutes on 2 cores; needs('cifar').
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, rename, rm, truncate, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRunEvents } from '../../src/tensorboard/index.ts';
import { WATCHER_TAGS, gifSteps, projectorEntries, stateOf, stepsByTag, watcherEvents } from './helpers/inspect-run.ts';
import { needs } from '../helpers/requirements.ts';
import { startCli, until, type CliChild } from '../helpers/cli.ts';

const CIFAR = process.env.CIFAR10_PATH;
const VAL = 300;
const RUN = 'e2e';

type WatcherEvent = { event: string; [key: string]: unknown };

/** The NDJSON events (`--json`) a child printed so far. */
function events(child: CliChild): WatcherEvent[] {
  return child.stdout.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as WatcherEvent);
}

function startWatcher(logdir: string): CliChild {
  return startCli([
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
    '--json',
  ]);
}

async function checkpointSteps(runDir: string): Promise<number[]> {
  const names = await readdir(join(runDir, 'checkpoints')).catch(() => [] as string[]);
  return names
    .filter((n) => /^step-\d{9}$/.test(n))
    .map((n) => Number(n.slice(5)))
    .sort((a, b) => a - b);
}

async function handled(runDir: string): Promise<number[]> {
  const state = await stateOf(runDir).catch(() => null);
  return state ? [...state.frames.map((f) => f.step), ...state.skipped.map((s) => s.step)] : [];
}

/** A copy of checkpoint `from` as step `to`, renamed into place as the trainer does. */
async function copyCheckpoint(
  runDir: string,
  from: number,
  to: number,
  damage?: (dir: string) => Promise<void>,
): Promise<void> {
  const name = (step: number) => `step-${String(step).padStart(9, '0')}`;
  const hidden = join(runDir, 'checkpoints', `.${name(to)}.tmp`);
  await cp(join(runDir, 'checkpoints', name(from)), hidden, { recursive: true });
  const metaPath = join(hidden, 'checkpoint.json');
  const meta = JSON.parse(await readFile(metaPath, 'utf8')) as Record<string, unknown>;
  await writeFile(metaPath, JSON.stringify({ ...meta, step: to, samplesSeen: to }));
  await damage?.(hidden);
  await rename(hidden, join(runDir, 'checkpoints', name(to)));
}

test(
  'training with the watcher beside it, a SIGKILL mid-frame, a corrupt checkpoint',
  { skip: needs('cifar'), timeout: 600_000 },
  async (t) => {
    const logdir = join(await mkdtemp(join(tmpdir(), 'e2e-')), 'logs');
    const runDir = join(logdir, RUN);
    const children: CliChild[] = [];
    t.after(async () => {
      for (const child of children) child.process.kill('SIGKILL');
      await rm(join(logdir, '..'), { recursive: true, force: true });
    });

    // Watcher first: the run does not exist yet.
    const first = startWatcher(logdir);
    children.push(first);
    const trainer = startCli([
      'train',
      '--logdir',
      logdir,
      '--run',
      RUN,
      '--blocks',
      'small',
      '--max-samples',
      '2048',
      '--checkpoint-every',
      '512',
      '--val-samples',
      String(VAL),
      '--batch-size',
      '64',
      '--data',
      CIFAR!,
    ]);
    children.push(trainer);

    // Kill the first watcher with SIGKILL while it is inside its second frame, partway in.
    const started = () => events(first).filter((e) => e.event === 'frame-start');
    await until('the second frame to start', () => started().length >= 2, 240);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const killedStep = started()[1]!.step;
    first.process.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');
    assert.ok(
      !events(first).some((e) => e.event === 'frame' && e.step === killedStep),
      'the kill came before the frame was done',
    );
    const framesBeforeKill = (await stateOf(runDir)).frames.length;
    assert.equal(framesBeforeKill, 1);

    const second = startWatcher(logdir);
    children.push(second);
    const training = await trainer.exited;
    assert.equal(training.code, 0, trainer.lines.join('\n'));
    const steps = await checkpointSteps(runDir);
    assert.ok(steps.length >= 4, `checkpoints: ${steps.join(', ')}`);
    await until('every checkpoint drawn', async () => (await handled(runDir)).length === steps.length, 240);
    assert.ok(
      events(second).some((e) => e.event === 'info' && /continuing after step/.test(String(e.message))),
      'the restarted watcher continued the chain',
    );

    // A corrupt checkpoint (weights cut short), then a good one: the first skipped, the second drawn.
    const last = steps.at(-1)!;
    await copyCheckpoint(runDir, last, last + 1, async (dir) => {
      const weights = join(dir, 'weights.bin');
      await truncate(weights, Math.floor((await stat(weights)).size / 2));
    });
    await copyCheckpoint(runDir, last, last + 2);
    await until('the copied checkpoints', async () => (await handled(runDir)).includes(last + 2), 120);
    second.process.kill('SIGTERM');
    assert.deepEqual(await second.exited, { code: 0, signal: null }, second.lines.join('\n'));

    const skips = events(second).filter((e) => e.event === 'skipped');
    assert.equal(skips.length, 1, JSON.stringify(skips));
    assert.equal(skips[0]!.step, last + 1);
    assert.match(String(skips[0]!.reason), /cannot be used/);

    // A frame for every good checkpoint, in every output, each step once and in order.
    const frameSteps = [...steps, last + 2];
    const state = await stateOf(runDir);
    assert.deepEqual(
      state.frames.map((f) => f.step),
      frameSteps,
    );
    assert.deepEqual(
      state.skipped.map((s) => s.step),
      [last + 1],
    );
    assert.ok(framesBeforeKill >= 1 && framesBeforeKill < frameSteps.length);
    const tags = await stepsByTag(runDir);
    for (const tag of WATCHER_TAGS) assert.deepEqual(tags.get(tag), frameSteps, tag);
    // Strictly increasing steps for every tag of both TensorBoard runs: the trainer's and the watcher's.
    const lastByTag = new Map<string, number>();
    for (const event of [...(await readRunEvents(runDir)), ...(await watcherEvents(runDir))]) {
      for (const value of event.summary?.value ?? []) {
        const previous = lastByTag.get(value.tag!) ?? -1;
        assert.ok(event.step > previous, `${value.tag}: step ${event.step} after ${previous}`);
        lastByTag.set(value.tag!, event.step);
      }
    }
    assert.deepEqual(await gifSteps(runDir), frameSteps);
    const entries = await projectorEntries(runDir);
    assert.equal(entries.length, 2 * frameSteps.length);
    for (const entry of entries) {
      const dims = entry.name.startsWith('tsne') ? 3 : 128;
      assert.deepEqual([entry.rows, entry.columns, entry.metadataRows], [VAL, dims, VAL], entry.name);
      assert.ok(entry.spriteBytes > 1000);
    }
    // Per-stage timings in every frame event.
    for (const event of [...events(first), ...events(second)].filter((e) => e.event === 'frame')) {
      const seconds = event.seconds as Record<string, number>;
      for (const stage of ['load', 'embed', 'tsne', 'align', 'render', 'write', 'total'])
        assert.ok(seconds[stage]! >= 0, stage);
    }
  },
);
