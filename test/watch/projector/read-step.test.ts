import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, symlink, truncate, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { needs } from '../../helpers/requirements.ts';
import { discoverRunChains, type StepFiles } from '../../../src/watch/sources/projector/discover.ts';
import { SettleClock, readStep, type ReadStepOptions } from '../../../src/watch/sources/projector/read-step.ts';
import { PYTORCH_RUNS, copyRun, temporaryDir, writeText } from './helpers.ts';

const shared = { skip: needs('shared') };
const SETTLE = 10_000;

function options(runDir: string, clock = new SettleClock()): ReadStepOptions & { advance(ms: number): void } {
  let now = Date.now();
  return { runDir, settleMs: SETTLE, clock, now: () => now, advance: (ms) => (now += ms) };
}

async function stepOf(runDir: string, step: number): Promise<StepFiles> {
  const { chains } = await discoverRunChains(runDir);
  const found = chains[0]!.steps.find((s) => s.step === step);
  assert.ok(found, `step ${step} in ${runDir}`);
  return found;
}

test('a step the config lists is ready at once, its files as PyTorch wrote them', shared, async () => {
  const runDir = join(PYTORCH_RUNS, 'basic');
  const reading = await readStep(await stepOf(runDir, 1280), options(runDir));
  assert.equal(reading.kind, 'ready');
  if (reading.kind !== 'ready') return;
  assert.deepEqual([reading.data.step, reading.data.count, reading.data.dim], [1280, 300, 128]);
  assert.equal(reading.data.givenProjection, false);
  assert.equal(reading.data.metadata?.rows[0]?.[0], 'frog');
});

test(
  'a freshly written step folder the config does not list waits for the settle time, then is ready',
  shared,
  async () => {
    const runDir = await copyRun('restarted', join(await temporaryDir(), 'run'));
    const step = await stepOf(runDir, 1280);
    assert.equal(step.listed, false);
    const opts = options(runDir);
    // Written just now, by the test's clock.
    const written = new Date(opts.now!());
    for (const path of [step.tensorPath, step.metadataPath!]) await utimes(path, written, written);
    assert.equal((await readStep(step, opts)).kind, 'wait');
    opts.advance(SETTLE - 1);
    assert.equal((await readStep(step, opts)).kind, 'wait');
    opts.advance(1);
    assert.equal((await readStep(step, opts)).kind, 'ready');
    // A folder left by an earlier writer long ago has settled already.
    const old = await stepOf(runDir, 0);
    const past = new Date(Date.now() - 3600_000);
    for (const path of [old.tensorPath, old.metadataPath!]) await utimes(path, past, past);
    assert.equal((await readStep(old, options(runDir))).kind, 'ready');
  },
);

test(
  'a half-written tensors.tsv is never ready; if it stays so past the settle time it is skipped with the reason',
  shared,
  async () => {
    const runDir = await copyRun('basic', join(await temporaryDir(), 'run'));
    const step = await stepOf(runDir, 2560);
    const whole = await readFile(step.tensorPath);
    // Cut in the middle of row 151, as a reader racing the writer sees it (the config already lists the step).
    const rowEnds = [...whole.entries()].filter(([, b]) => b === 10).map(([i]) => i);
    await truncate(step.tensorPath, rowEnds[149]! + 1 + 200);
    const opts = options(runDir);
    const first = await readStep(step, opts);
    assert.equal(first.kind, 'wait');
    opts.advance(SETTLE);
    const later = await readStep(step, opts);
    assert.equal(later.kind, 'skip');
    assert.match(later.kind === 'skip' ? later.reason : '', /row 151 has \d+ values but row 1 has 128/);
    // Cut at a row boundary: 150 rows against 300 metadata lines.
    await truncate(step.tensorPath, rowEnds[149]! + 1);
    const opts2 = options(runDir);
    const cut = await readStep(step, opts2);
    assert.equal(cut.kind, 'wait');
    assert.match(cut.kind === 'wait' ? cut.why : '', /has 150 rows but .*metadata\.tsv has 300 points/);
    opts2.advance(SETTLE);
    assert.equal((await readStep(step, opts2)).kind, 'skip');
  },
);

test('metadata written but no tensors yet, or a step folder deleted again: wait', shared, async () => {
  const runDir = await copyRun('basic', join(await temporaryDir(), 'run'));
  const step = await stepOf(runDir, 5120);
  await rm(step.tensorPath);
  assert.equal((await readStep(step, options(runDir))).kind, 'wait');
  await rm(join(runDir, '05120'), { recursive: true });
  assert.equal((await readStep(step, options(runDir))).kind, 'wait');
});

test(
  "two columns are the user's own projection; a file with no line break at the end is whole once " + 'settled',
  async () => {
    const runDir = await temporaryDir();
    await writeText(join(runDir, '00003', 'xy', 'tensors.tsv'), '0.5\t1\n-2\t3e-1');
    const [step] = (await discoverRunChains(runDir)).chains[0]!.steps;
    const opts = options(runDir);
    assert.equal((await readStep(step!, opts)).kind, 'wait');
    opts.advance(SETTLE);
    const reading = await readStep(step!, opts);
    assert.equal(reading.kind, 'ready');
    if (reading.kind !== 'ready') return;
    assert.equal(reading.data.givenProjection, true);
    assert.deepEqual([...reading.data.points], [0.5, 1, -2, Math.fround(0.3)]);
    assert.equal(reading.data.metadata, undefined);
  },
);

test('a tensor file that is a FIFO or a link out of the run is skipped with one line, never read', async () => {
  const base = await temporaryDir();
  const runDir = join(base, 'run');
  await writeText(join(base, 'secret.tsv'), '1\t2\n');
  await writeText(join(runDir, '00001', 'a', 'metadata.tsv'), 'x\n');
  await symlink(join(base, 'secret.tsv'), join(runDir, '00001', 'a', 'tensors.tsv'));
  await mkdir(join(runDir, '00002', 'a'), { recursive: true });
  execFileSync('mkfifo', [join(runDir, '00002', 'a', 'tensors.tsv')]);
  const steps = (await discoverRunChains(runDir)).chains[0]!.steps;
  const outcomes = await Promise.all(steps.map((step) => readStep(step, options(runDir))));
  assert.deepEqual(
    outcomes.map((o) => o.kind),
    ['skip', 'skip'],
  );
  assert.match(outcomes[0]!.kind === 'skip' ? outcomes[0]!.reason : '', /symbolic link out of/);
  assert.match(outcomes[1]!.kind === 'skip' ? outcomes[1]!.reason : '', /a named pipe, not a regular file/);
});
