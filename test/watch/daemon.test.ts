import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { access, mkdtemp, readFile, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Watcher, type WatcherOptions } from '../../src/watch/daemon.ts';
import { textReporter, type Reporter } from '../../src/watch/report.ts';
import { isUserError } from '../../src/errors.ts';
import { readFrameTsv } from '../../src/watch/state.ts';
import {
  formatProjectorConfig,
  listEventFiles,
  parseProjectorConfig,
  readEventFileDetailed,
  summarizeLogdir,
} from '../../src/tensorboard/index.ts';
import { fakeStages, writeFakeCheckpoint, writeHalfCheckpoint, type FakeStageLog } from './helpers/fake-stages.ts';
import { WATCHER_TAGS, assertFramesEverywhere, gifSteps, projectorEntries, stateOf } from './helpers/inspect-run.ts';
import { needs } from '../helpers/requirements.ts';
import { listViewRuns } from '../../src/view/server.ts';

const VAL = 200;

async function tempLogdir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'watch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return join(dir, 'logs');
}

function collectingReporter() {
  const lines: string[] = [];
  const skips: string[] = [];
  const reporter: Reporter = textReporter(
    (line) => lines.push(line),
    (line) => skips.push(line),
  );
  return { reporter, lines, skips };
}

function watcher(logdir: string, extra: Partial<WatcherOptions> & { log?: FakeStageLog } = {}) {
  const log = extra.log ?? { loaded: [], inits: [] };
  const { reporter, lines, skips } = collectingReporter();
  const w = new Watcher({
    logdir,
    once: true,
    settings: { valSize: VAL, seed: 0, perplexity: 30 },
    stages: fakeStages(log),
    reporter,
    ...extra,
  });
  return { w, log, lines, skips };
}

test(
  '--once draws every complete checkpoint in step order, with every output',
  { skip: needs('shared') },
  async (t) => {
    const logdir = await tempLogdir(t);
    // Created out of order, plus a half-built one that must be ignored.
    await writeFakeCheckpoint(logdir, 'run-a', 2048, 9);
    await writeFakeCheckpoint(logdir, 'run-a', 512, 0);
    await writeFakeCheckpoint(logdir, 'run-a', 1024, 5);
    await writeHalfCheckpoint(logdir, 'run-a', 4096);
    const { w, log, lines } = watcher(logdir);
    assert.deepEqual(await w.run(), { frames: 3, skipped: 0, failedRuns: [] });

    const runDir = join(logdir, 'run-a');
    assert.deepEqual(
      log.loaded.map((dir) => dir.slice(-9)),
      ['000000512', '000001024', '000002048'],
    );
    await assertFramesEverywhere(runDir, [512, 1024, 2048]);
    // The watcher's events in a directory of their own (TensorBoard's run 'run-a/embeddings'),
    // none beside the trainer's: TensorBoard follows only the newest event file of a directory.
    assert.deepEqual((await listEventFiles(runDir)).length, 0);
    assert.equal((await listEventFiles(join(runDir, 'embeddings'))).length, 1);
    // What `inspect` lists: the projector under the run, the watcher's tags under run-a/embeddings.
    const runs = await summarizeLogdir(logdir);
    const entriesPerRun = runs.map((r) => [r.name, r.projector?.embeddings.length ?? 0]);
    assert.deepEqual(entriesPerRun, [
      ['run-a', 6],
      ['run-a/embeddings', 0],
    ]);
    assert.deepEqual(runs[1]!.tags.map((tag) => tag.tag).sort(), [...WATCHER_TAGS].sort());

    // The chain: PCA start for the first frame, then each frame starts from the previous one.
    assert.equal(log.inits[0], null);
    assert.deepEqual(log.inits[1], await readFrameTsv(join(runDir, 'embeddings', 'frames', 'step-000000512.tsv'), VAL));
    assert.deepEqual(log.inits[2], await readFrameTsv(join(runDir, 'embeddings', 'frames', 'step-000001024.tsv'), VAL));

    // One line per frame with every stage's time.
    const frameLines = lines.filter((line) => line.startsWith('run-a step'));
    assert.equal(frameLines.length, 3);
    for (const stage of ['load', 'embed', 'tsne', 'align', 'render', 'write'])
      assert.match(frameLines[0]!, new RegExp(`${stage} \\d+\\.\\d\\ds`));

    // Projector: a 128-d and a 2-d entry per step, every path resolving, rows matching.
    const entries = await projectorEntries(runDir);
    assert.deepEqual(
      entries.map((e) => e.name),
      [
        'embedding:step-000000512',
        'tsne:step-000000512',
        'embedding:step-000001024',
        'tsne:step-000001024',
        'embedding:step-000002048',
        'tsne:step-000002048',
      ],
    );
    for (const entry of entries) {
      // The frame as (x, y, 0): the projector draws nothing for 2 columns.
      const dims = entry.name.startsWith('tsne') ? 3 : 128;
      assert.deepEqual(entry.shape, [VAL, dims]);
      assert.equal(entry.rows, VAL);
      assert.equal(entry.columns, dims);
      assert.equal(entry.metadataRows, VAL);
      assert.equal(entry.metadataHeader, 'label\tclass\ttest_index');
      assert.deepEqual(entry.tileDims, [32, 32]);
    }
    // The 2-D entry is exactly the drawn frame.
    const frame = await readFrameTsv(join(runDir, 'embeddings', 'frames', 'step-000002048.tsv'), VAL);
    const tsneRows = (await readFile(join(runDir, 'embeddings', 'projector', 'step-000002048-tsne.tsv'), 'utf8'))
      .trim()
      .split('\n');
    assert.ok(Math.abs(Number(tsneRows[7]!.split('\t')[1]) - frame[15]!) < 1e-5);
    assert.equal(tsneRows[7]!.split('\t')[2], '0');
  },
);

test(
  'a corrupt checkpoint is skipped with one line, recorded, and later ones go on',
  { skip: needs('shared') },
  async (t) => {
    const logdir = await tempLogdir(t);
    await writeFakeCheckpoint(logdir, 'r', 100, 1);
    await writeFakeCheckpoint(logdir, 'r', 200, 2, { corrupt: true });
    await writeFakeCheckpoint(logdir, 'r', 300, 3);
    const first = watcher(logdir);
    assert.deepEqual(await first.w.run(), { frames: 2, skipped: 1, failedRuns: [] });
    assert.equal(first.skips.length, 1);
    assert.match(
      first.skips[0]!,
      /^skipped r step 000000200: .*step-000000200 cannot be used: .*checkpoint\.json is not valid JSON/,
    );
    assert.doesNotMatch(first.skips[0]!, /\n/);
    const runDir = join(logdir, 'r');
    await assertFramesEverywhere(runDir, [100, 300]);
    assert.deepEqual(
      (await stateOf(runDir)).skipped.map((s) => s.step),
      [200],
    );
    // Frame 300 continues from frame 100: the skipped one is not part of the chain.
    assert.deepEqual(
      first.log.inits[1],
      await readFrameTsv(join(runDir, 'embeddings', 'frames', 'step-000000100.tsv'), VAL),
    );

    // A restart does nothing again and says nothing again about the skipped one.
    const second = watcher(logdir);
    assert.deepEqual(await second.w.run(), { frames: 0, skipped: 0, failedRuns: [] });
    assert.equal(second.skips.length, 0);
  },
);

test(
  'a restarted watcher continues the chain from its state, never repeating a step',
  { skip: needs('shared') },
  async (t) => {
    const logdir = await tempLogdir(t);
    await writeFakeCheckpoint(logdir, 'r', 1000, 1);
    await writeFakeCheckpoint(logdir, 'r', 2000, 2);
    await watcher(logdir).w.run();
    await writeFakeCheckpoint(logdir, 'r', 3000, 3);
    await writeFakeCheckpoint(logdir, 'r', 4000, 4);
    // A checkpoint older than the last frame appearing late cannot be drawn: frames go forward.
    await writeFakeCheckpoint(logdir, 'r', 1500, 5);
    const again = watcher(logdir);
    assert.deepEqual(await again.w.run(), { frames: 2, skipped: 1, failedRuns: [] });
    assert.match(again.skips[0]!, /step 000001500: it appeared after step 000002000 was already drawn/);
    assert.ok(again.lines.some((line) => /continuing after step 000002000 \(2 frames/.test(line)));
    const runDir = join(logdir, 'r');
    assert.deepEqual(
      again.log.inits[0],
      await readFrameTsv(join(runDir, 'embeddings', 'frames', 'step-000002000.tsv'), VAL),
    );
    await assertFramesEverywhere(runDir, [1000, 2000, 3000, 4000]);
  },
);

test('a restart with another --val-size is refused with a clear line', { skip: needs('shared') }, async (t) => {
  const logdir = await tempLogdir(t);
  await writeFakeCheckpoint(logdir, 'r', 10, 1);
  await watcher(logdir).w.run();
  const other = watcher(logdir, { run: 'r', settings: { valSize: 100, seed: 0, perplexity: 30 } });
  await assert.rejects(
    other.w.run(),
    (error) => isUserError(error) && /--val-size 200 \(now 100\)/.test((error as Error).message),
  );
});

test(
  'TensorBoard points lost before reaching the disk are written back from the state file',
  { skip: needs('shared') },
  async (t) => {
    const logdir = await tempLogdir(t);
    await writeFakeCheckpoint(logdir, 'r', 10, 1);
    await writeFakeCheckpoint(logdir, 'r', 20, 2);
    await watcher(logdir).w.run();
    const runDir = join(logdir, 'r');
    const eventsDir = join(runDir, 'embeddings');
    for (const name of await readdir(eventsDir)) if (name.includes('tfevents')) await unlink(join(eventsDir, name));
    await writeFakeCheckpoint(logdir, 'r', 30, 3);
    const again = watcher(logdir);
    await again.w.run();
    assert.ok(again.lines.some((line) => /wrote 12 TensorBoard points the event files had lost/.test(line)));
    await assertFramesEverywhere(runDir, [10, 20, 30]);
  },
);

/**
 * Turns a run drawn by this watcher into one drawn before `<run>/embeddings/` held the events:
 * the watcher's event file in the run directory, cut before `keepBelow`'s points (as if they
 * never reached the disk), and 2-column `tsne:step-N` projector entries.
 */
async function toEarlierLayout(runDir: string, keepBelow: number): Promise<void> {
  const { rename, truncate, writeFile } = await import('node:fs/promises');
  const [file] = await listEventFiles(join(runDir, 'embeddings'));
  const moved = join(runDir, file!.split('/').at(-1)!);
  await rename(file!, moved);
  const { events, offsets } = await readEventFileDetailed(moved);
  const cut = events.findIndex((event) => event.step >= keepBelow && event.summary !== undefined);
  if (cut >= 0) await truncate(moved, offsets[cut]!);
  const configPath = join(runDir, 'projector_config.pbtxt');
  const config = parseProjectorConfig(await readFile(configPath, 'utf8'));
  for (const entry of config.embeddings ?? []) {
    if (entry.tensor_name!.startsWith('tsne:')) entry.tensor_shape = [VAL, 2];
  }
  await writeFile(configPath, formatProjectorConfig(config));
  for (const name of await readdir(join(runDir, 'embeddings', 'projector'))) {
    if (!name.endsWith('-tsne.tsv')) continue;
    const path = join(runDir, 'embeddings', 'projector', name);
    const rows = (await readFile(path, 'utf8')).trimEnd().split('\n');
    await writeFile(path, rows.map((row) => row.split('\t').slice(0, 2).join('\t')).join('\n') + '\n');
  }
}

test(
  "a run with the watcher's events in the run directory (earlier layout) goes on in embeddings/",
  { skip: needs('shared') },
  async (t) => {
    const logdir = await tempLogdir(t);
    for (const [k, step] of [10, 20, 30].entries()) await writeFakeCheckpoint(logdir, 'r', step, k + 1);
    await watcher(logdir).w.run();
    const runDir = join(logdir, 'r');
    await toEarlierLayout(runDir, 30);
    const before = await projectorEntries(runDir);
    const flat = before.filter((e) => e.name.startsWith('tsne')).map((e) => [e.shape[1], e.columns]);
    assert.deepEqual(flat, [
      [2, 2],
      [2, 2],
      [2, 2],
    ]);

    await writeFakeCheckpoint(logdir, 'r', 40, 4);
    const again = watcher(logdir);
    assert.deepEqual(await again.w.run(), { frames: 1, skipped: 0, failedRuns: [] });
    // Step 30's points, lost from the earlier file, come back in the new place; 40 follows them.
    const restored = /wrote 6 TensorBoard points the event files had lost/;
    assert.ok(
      again.lines.some((line) => restored.test(line)),
      again.lines.join('\n'),
    );
    const earlier = await listEventFiles(runDir);
    assert.equal(earlier.length, 1, 'the earlier file stays where TensorBoard shows it');
    const earlierEvents = (await readEventFileDetailed(earlier[0]!)).events.filter((e) => e.summary);
    const earlierSteps = [...new Set(earlierEvents.map((e) => e.step))];
    assert.deepEqual(earlierSteps, [10, 20]);
    await assertFramesEverywhere(runDir, [10, 20, 30, 40]);
    // Every frame's projector entry now has the third column the projector needs.
    for (const entry of (await projectorEntries(runDir)).filter((e) => e.name.startsWith('tsne'))) {
      assert.deepEqual([entry.shape, entry.columns, entry.rows], [[VAL, 3], 3, VAL], entry.name);
    }
  },
);

test(
  'the live watcher finds runs and checkpoints that appear after it started, in either order',
  { skip: needs('shared') },
  async (t) => {
    const logdir = await tempLogdir(t);
    const { w } = watcher(logdir, { once: false, pollSeconds: 0.2 });
    const running = w.run();
    const waitForFrames = async (runDir: string, count: number) => {
      for (let i = 0; i < 200; i++) {
        const done = await stateOf(runDir).then(
          (s) => s.frames.length,
          () => 0,
        );
        if (done >= count) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.fail(`no ${count} frames in ${runDir}`);
    };
    await writeFakeCheckpoint(logdir, 'later', 100, 1);
    await waitForFrames(join(logdir, 'later'), 1);
    await writeFakeCheckpoint(logdir, 'later', 200, 2);
    await writeFakeCheckpoint(logdir, 'later', 300, 3);
    await writeFakeCheckpoint(logdir, 'second', 50, 4);
    await waitForFrames(join(logdir, 'later'), 3);
    await waitForFrames(join(logdir, 'second'), 1);
    w.stop();
    assert.deepEqual(await running, { frames: 4, skipped: 0, failedRuns: [] });
    await assertFramesEverywhere(join(logdir, 'later'), [100, 200, 300]);
    await assertFramesEverywhere(join(logdir, 'second'), [50]);
  },
);

const FAKE_WATCHER = new URL('./helpers/fake-watcher.ts', import.meta.url).pathname;

function runFakeWatcher(logdir: string, killAt?: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', FAKE_WATCHER, logdir, String(VAL)], {
    env: { ...process.env, KILL_AT: killAt ?? '' },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

for (const point of ['tsne', 'gif', 'events']) {
  test(`a watcher SIGKILLed at '${point}' of a frame and restarted loses nothing and repeats nothing`, async (t) => {
    const logdir = await tempLogdir(t);
    for (const [k, step] of [100, 200, 300].entries()) await writeFakeCheckpoint(logdir, 'r', step, k + 1);
    const killed = runFakeWatcher(logdir, `200:${point}`);
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    const runDir = join(logdir, 'r');
    assert.deepEqual(
      (await stateOf(runDir)).frames.map((f) => f.step),
      [100],
    );

    // The view's index reads the state a kill may have interrupted: it still lists the run.
    assert.deepEqual(await listViewRuns(logdir), [{ name: 'r', dir: 'r/embeddings', frames: 1, hasPage: true }]);

    const restarted = runFakeWatcher(logdir);
    assert.equal(restarted.status, 0, restarted.stderr);
    await assertFramesEverywhere(runDir, [100, 200, 300]);
    assert.deepEqual(await listViewRuns(logdir), [{ name: 'r', dir: 'r/embeddings', frames: 3, hasPage: true }]);
  });
}

test(
  'a log directory that cannot be created is one clear error, before anything is written',
  { skip: needs('shared') },
  async (t) => {
    const logdir = await tempLogdir(t);
    await writeFakeCheckpoint(logdir, 'r', 10, 1);
    const blocked = join(logdir, 'r', 'checkpoints', 'step-000000010', 'checkpoint.json', 'logs');
    const { w } = watcher(blocked, { once: false });
    await assert.rejects(
      w.run(),
      (error) =>
        isUserError(error) &&
        /cannot create log directory .*: a part of the path is a file/.test((error as Error).message),
    );
  },
);

test(
  'an output that cannot be written stops the watcher with one line and leaves the state as it was',
  { skip: needs('shared') },
  async (t) => {
    const logdir = await tempLogdir(t);
    await writeFakeCheckpoint(logdir, 'r', 10, 1);
    await watcher(logdir).w.run();
    const runDir = join(logdir, 'r');
    const stateBefore = await readFile(join(runDir, 'embeddings', 'state.json'), 'utf8');
    // The PNG of the next frame cannot be written: its name is taken by a directory.
    await writeFakeCheckpoint(logdir, 'r', 20, 2);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(runDir, 'embeddings', 'images', 'step-000000020.png'));
    // With --run it is the only run asked for: its failure ends the watcher (see failures.test.ts otherwise).
    const { w } = watcher(logdir, { run: 'r' });
    await assert.rejects(
      w.run(),
      (error) => isUserError(error) && /cannot write .*step-000000020\.png/.test((error as Error).message),
    );
    assert.equal(await readFile(join(runDir, 'embeddings', 'state.json'), 'utf8'), stateBefore);
    assert.deepEqual(await gifSteps(runDir), [10]);
  },
);

test(
  "a second watcher on a run is refused while the first lives; a dead watcher's lock and temporaries are cleared",
  { skip: needs('shared') },
  async (t) => {
    const logdir = await tempLogdir(t);
    await writeFakeCheckpoint(logdir, 'r', 10, 1);
    const embeddings = join(logdir, 'r', 'embeddings');
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(join(embeddings, 'images'), { recursive: true });
    // Our parent process is alive and is not us: it stands for another watcher.
    await writeFile(join(embeddings, 'watcher.lock'), `${process.ppid}\n`);
    const refused = new RegExp(`already being drawn by another watcher \\(process ${process.ppid}`);
    const locked = watcher(logdir, { run: 'r' });
    await assert.rejects(locked.w.run(), (error) => isUserError(error) && refused.test(error.message));

    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(gone.stdout);
    await writeFile(join(embeddings, 'watcher.lock'), `${deadPid}\n`);
    const leftover = join(embeddings, 'images', `.step-000000010.png.${deadPid}.0badcafe.tmp`);
    await writeFile(leftover, 'half a PNG');
    assert.deepEqual(await watcher(logdir).w.run(), { frames: 1, skipped: 0, failedRuns: [] });
    await assert.rejects(access(leftover), /ENOENT/);
    await assert.rejects(
      access(join(embeddings, 'watcher.lock')),
      /ENOENT/,
      'the lock is released when the watcher stops',
    );
  },
);

test('a perplexity the validation subset is too small for is lowered, and the watcher says so once', async (t) => {
  const logdir = await tempLogdir(t);
  await writeFakeCheckpoint(logdir, 'small', 100, 0);
  await writeFakeCheckpoint(logdir, 'small', 200, 1);
  const { w, lines } = watcher(logdir, { settings: { valSize: 12, seed: 0, perplexity: 30 } });
  assert.deepEqual(await w.run(), { frames: 2, skipped: 0, failedRuns: [] });
  const said = lines.filter((line) => line.includes('perplexity'));
  assert.deepEqual(said, ['perplexity 30 lowered to 11: the subset has only 12 images']);

  const roomy = watcher(join(logdir, '..', 'roomy'), { settings: { valSize: VAL, seed: 0, perplexity: 30 } });
  await writeFakeCheckpoint(join(logdir, '..', 'roomy'), 'r', 100, 0);
  await roomy.w.run();
  assert.equal(roomy.lines.filter((line) => line.includes('perplexity')).length, 0);
});

test(
  'a checkpoint known to be unusable (refused before loading) is a recorded skip in its turn, never loaded',
  { skip: needs('shared') },
  async (t) => {
    const logdir = await tempLogdir(t);
    await writeFakeCheckpoint(logdir, 'r', 10, 1);
    await writeFakeCheckpoint(logdir, 'r', 30, 3);
    // Step 20 is not on disk: the remote watcher could not download it whole.
    const refused = new Map([[20, 's3://b/r/checkpoints/step-000000020/weights.bin: its sum does not match']]);
    const { w, log, skips } = watcher(logdir, { refusedCheckpoints: (run) => (run === 'r' ? refused : new Map()) });
    assert.deepEqual(await w.run(), { frames: 2, skipped: 1, failedRuns: [] });
    assert.equal(skips.length, 1, skips.join('\n'));
    assert.match(skips[0]!, /step 000000020.*its sum does not match/);
    assert.deepEqual(
      log.loaded.map((dir) => dir.slice(-4)),
      ['0010', '0030'],
    );
    const state = await stateOf(join(logdir, 'r'));
    assert.deepEqual(
      state.frames.map((frame) => frame.step),
      [10, 30],
    );
    assert.deepEqual(
      state.skipped.map(({ step, reason }) => ({ step, reason })),
      [{ step: 20, reason: refused.get(20) }],
    );
    // Recorded: a second watcher neither says it again nor draws anything.
    const again = watcher(logdir, { refusedCheckpoints: () => refused });
    assert.deepEqual(await again.w.run(), { frames: 0, skipped: 0, failedRuns: [] });
  },
);
