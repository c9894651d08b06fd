import assert from 'node:assert/strict';
import { access, cp, readFile, readdir, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { needs } from '../../helpers/requirements.ts';
import { parseProjectorConfig } from '../../../src/tensorboard/index.ts';
import { writeFakeCheckpoint } from '../helpers/fake-stages.ts';
import { checksums, copyRun, temporaryDir, writeText } from './helpers.ts';
import { chainDir, chainEventSteps, chainGifSteps, chainState, pageData, projectorWatcher } from './helpers-watch.ts';

const shared = { skip: needs('shared') };
/** Sets every file under `dir` to `seconds` ago, as if written that long before. */
async function ageFiles(dir: string, seconds: number): Promise<void> {
  const then = new Date(Date.now() - seconds * 1000);
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) await utimes(join(entry.parentPath, entry.name), then, then);
  }
}

const CIFAR = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

test(
  "PyTorch's three runs: one frame per step in every output, right legend, thumbnails where a sprite is, user " +
    'files untouched',
  shared,
  async () => {
    const logdir = await temporaryDir('projector-watch-');
    const runs = { basic: 'default', restarted: 'default', 'header-nosprite': 'penultimate' } as const;
    const before = new Map<string, Map<string, string>>();
    for (const run of Object.keys(runs)) {
      await copyRun(run, join(logdir, run));
      before.set(run, await checksums(join(logdir, run)));
    }
    const { watcher, errors, log } = projectorWatcher(logdir);
    const summary = await watcher.run();
    assert.deepEqual(errors, []);
    assert.equal(summary.frames, 4 + 5 + 3);
    assert.equal(summary.skipped, 0);
    assert.equal(log.inits.length, 12, 'every step went through t-SNE');
    const expected = {
      basic: [0, 1280, 2560, 5120],
      restarted: [0, 1280, 2560, 3840, 5120],
      'header-nosprite': [0, 1280, 2560],
    };
    for (const [run, tag] of Object.entries(runs)) {
      const dir = chainDir(join(logdir, run), tag);
      const steps = expected[run as keyof typeof expected];
      assert.deepEqual(
        (await chainState(dir)).frames.map((f) => f.step),
        steps,
        `${run}: state`,
      );
      assert.deepEqual(await chainGifSteps(dir), steps, `${run}: GIF`);
      const events = await chainEventSteps(dir);
      assert.deepEqual(events.get('embeddings/tsne'), steps, `${run}: TensorBoard images`);
      assert.deepEqual(events.get('embeddings/knn_preservation'), steps, `${run}: scalars`);
      for (const step of steps) {
        const label = String(step).padStart(9, '0');
        await access(join(dir, 'images', `step-${label}.png`));
        const frame = (await readFile(join(dir, 'frames', `step-${label}.tsv`), 'utf8')).trimEnd().split('\n');
        assert.equal(frame.length, 300);
      }
      const page = await pageData(dir);
      assert.deepEqual(page.classNames, CIFAR, `${run}: legend`);
      assert.deepEqual(page.steps, steps);
      const hasSprite = run !== 'header-nosprite';
      assert.equal(page.sprite !== null, hasSprite, `${run}: thumbnails on the page`);
      const columns = (page.metadata?.columns ?? []).map((column) => column.name);
      assert.deepEqual(columns, hasSprite ? ['label'] : ['label', 'test_index'], `${run}: colour-by columns`);
      const config = parseProjectorConfig(await readFile(join(dir, 'projector_config.pbtxt'), 'utf8'));
      // Only our frames: the 128-d embeddings are the user's own entries already, not copied again.
      const tsne = config.embeddings ?? [];
      assert.deepEqual(
        tsne.map((e) => e.tensor_name),
        steps.map((step) => `tsne:step-${String(step).padStart(9, '0')}`),
      );
      assert.deepEqual(
        (await readdir(join(dir, 'projector'))).filter((name) => !name.endsWith('-tsne.tsv')).sort(),
        hasSprite ? ['metadata.tsv', 'sprite.png'] : ['metadata.tsv'],
      );
      assert.equal(
        tsne.every((e) => (e.sprite !== undefined) === hasSprite),
        true,
        `${run}: projector sprite`,
      );
      // The user's files, the config included, are exactly as they were.
      assert.deepEqual(await checksums(join(logdir, run), ['timelapse']), before.get(run), `${run}: user files`);
    }
    // A second watcher finds nothing new to do and still touches nothing of the user's.
    const again = projectorWatcher(logdir);
    assert.equal((await again.watcher.run()).frames, 0);
    assert.deepEqual(await checksums(join(logdir, 'basic'), ['timelapse']), before.get('basic'));
  },
);

test(
  "a restarted writer's run copied a moment ago: its older, unlisted steps are drawn first, once settled, " +
    'not passed by the listed ones',
  shared,
  async () => {
    const logdir = await temporaryDir('projector-watch-');
    // A fresh copy: every file was just written, and the config lists only steps 3840 and 5120.
    const run = await copyRun('restarted', join(logdir, 'restarted'));
    const first = projectorWatcher(logdir, { settleSeconds: 60 });
    assert.equal((await first.watcher.run()).frames, 0, 'nothing drawn ahead of the settling steps');
    assert.ok(
      first.lines.some((line) => /step 0 is not settled yet .*the 4 steps after it wait for it/.test(line)),
      first.lines.join('\n'),
    );
    // A minute later the unlisted folders have settled: all five steps, in order, none skipped.
    await ageFiles(run, 120);
    const later = projectorWatcher(logdir, { settleSeconds: 60 });
    const summary = await later.watcher.run();
    assert.equal(summary.skipped, 0);
    assert.deepEqual(
      (await chainState(chainDir(run, 'default'))).frames.map((f) => f.step),
      [0, 1280, 2560, 3840, 5120],
    );
  },
);

test('mismatched N: that step is skipped with one line naming it and both counts; the chain goes on', async () => {
  const logdir = await temporaryDir('projector-watch-');
  const run = join(logdir, 'exp');
  const rows = (n: number, shift: number) =>
    Array.from({ length: n }, (_, i) => `${Math.sin(i + shift)}\t${Math.cos(3 * i)}\t${i % 7}`).join('\n') + '\n';
  for (const [step, n] of [
    [0, 40],
    [10, 30],
    [20, 40],
  ] as const) {
    const dir = join(run, String(step).padStart(5, '0'), 'emb');
    await writeText(join(dir, 'tensors.tsv'), rows(n, step));
    await writeText(join(dir, 'metadata.tsv'), Array.from({ length: n }, (_, i) => `c${i % 3}`).join('\n') + '\n');
  }
  const { watcher, lines } = projectorWatcher(logdir);
  const summary = await watcher.run();
  assert.equal(summary.frames, 2);
  assert.equal(summary.skipped, 1);
  const state = await chainState(chainDir(run, 'emb'));
  assert.deepEqual(
    state.frames.map((f) => f.step),
    [0, 20],
  );
  assert.equal(state.skipped.length, 1);
  assert.match(
    state.skipped[0]!.reason,
    /step 10 \(exp\/00010\/emb\/tensors\.tsv\) has 30 points but the chain has 40/,
  );
  assert.ok(
    lines.some((line) => /3 categories/.test(line)),
    lines.join('\n'),
  );
});

test(
  'two columns are drawn as given (no t-SNE); three columns go through t-SNE; no metadata: one colour and ' + 'why',
  async () => {
    const logdir = await temporaryDir('projector-watch-');
    for (const [run, cols] of [
      ['xy', 2],
      ['xyz', 3],
    ] as const) {
      for (const step of [1, 2]) {
        const text = Array.from({ length: 25 }, (_, i) =>
          Array.from({ length: cols }, (_, c) => Math.sin(i * (c + 1) + step)).join('\t'),
        );
        await writeText(join(logdir, run, String(step).padStart(5, '0'), 'e', 'tensors.tsv'), text.join('\n') + '\n');
      }
    }
    const { watcher, log } = projectorWatcher(logdir);
    assert.equal((await watcher.run()).frames, 4);
    assert.equal(log.inits.length, 2, 'only the 3-column chain went through t-SNE');
    const page = await pageData(chainDir(join(logdir, 'xy'), 'e'));
    assert.equal(page.classNames.length, 1);
    assert.match(page.classNames[0]!, /no metadata/);
    assert.equal(page.sprite, null);
  },
);

test('a run with both our checkpoints and user projector embeddings: two chains side by side', shared, async () => {
  const logdir = await temporaryDir('projector-watch-');
  const run = join(logdir, 'both');
  await copyRun('basic', run);
  await writeFakeCheckpoint(logdir, 'both', 100, 0);
  await writeFakeCheckpoint(logdir, 'both', 200, 1);
  const before = await checksums(run, ['timelapse', 'embeddings', 'checkpoints']);
  const { watcher, errors } = projectorWatcher(logdir);
  const summary = await watcher.run();
  assert.deepEqual(errors, []);
  assert.equal(summary.frames, 4 + 2);
  assert.deepEqual(
    (await chainState(join(run, 'embeddings'))).frames.map((f) => f.step),
    [100, 200],
  );
  assert.deepEqual(
    (await chainState(chainDir(run, 'default'))).frames.map((f) => f.step),
    [0, 1280, 2560, 5120],
  );
  assert.deepEqual(await readdir(join(run, 'timelapse')), ['default']);
  // The run's config is the user's: our own chain's projector entries go to its own folder instead.
  assert.deepEqual(await checksums(run, ['timelapse', 'embeddings', 'checkpoints']), before);
  const ours = parseProjectorConfig(await readFile(join(run, 'embeddings', 'projector_config.pbtxt'), 'utf8'));
  const entries = ours.embeddings ?? [];
  assert.deepEqual(
    entries.map((e) => e.tensor_name),
    ['embedding:step-000000100', 'tsne:step-000000100', 'embedding:step-000000200', 'tsne:step-000000200'],
  );
  for (const entry of entries) await access(join(run, 'embeddings', entry.tensor_path!));
  await access(join(run, 'embeddings', entries[0]!.sprite!.image_path!));
});

test('TF-style config, binary tensors, a percent-encoded PyTorch tag, 25 classes on a colour bar', async () => {
  const logdir = await temporaryDir('projector-watch-');
  const tf = join(logdir, 'tf');
  const n = 50;
  const names = Array.from({ length: n }, (_, i) => `species ${i % 25}`);
  const entries: string[] = [];
  for (const epoch of [2, 9]) {
    const bytes = Buffer.alloc(n * 4 * 4);
    for (let i = 0; i < n * 4; i++) bytes.writeFloatLE(Math.sin(i * 0.37 + epoch), 4 * i);
    await writeText(join(tf, `vectors_epoch${epoch}.bin`), bytes);
    entries.push(
      `embeddings { tensor_name: "words_epoch${epoch}" tensor_path: "vectors_epoch${epoch}.bin" ` +
        `tensor_shape: [${n}, 4] metadata_path: "words.tsv" }`,
    );
  }
  await writeText(join(tf, 'words.tsv'), names.join('\n') + '\n');
  await writeText(join(tf, 'projector_config.pbtxt'), entries.join('\n') + '\n');
  const pt = join(logdir, 'pt');
  for (const step of [5, 6]) {
    const text = Array.from({ length: 30 }, (_, i) => `${Math.sin(i + step)}\t${Math.cos(i)}\t1e-05`).join('\n');
    await writeText(join(pt, String(step).padStart(5, '0'), 'head%2fproj', 'tensors.tsv'), text + '\n');
  }
  const { watcher, errors } = projectorWatcher(logdir);
  assert.equal((await watcher.run()).frames, 4);
  assert.deepEqual(errors, []);
  assert.deepEqual(
    (await chainState(chainDir(tf, 'words_epoch'))).frames.map((f) => f.step),
    [2, 9],
  );
  // Tag `head/proj` in a folder name of its own.
  assert.deepEqual(
    (await chainState(chainDir(pt, 'head_proj'))).frames.map((f) => f.step),
    [5, 6],
  );
  const page = await pageData(chainDir(tf, 'words_epoch'));
  assert.equal(page.colorList.length, 17, 'the 16 steps of the colour map and "no value"');
  assert.match(page.classNames[0]!, /^label: step 1 of 16$/);
});

test('a step with NaN or infinite values is skipped with the reason; --color-by picks the column', async () => {
  const logdir = await temporaryDir('projector-watch-');
  const run = join(logdir, 'exp');
  for (const step of [1, 2, 3]) {
    const rows = Array.from(
      { length: 20 },
      (_, i) => `${Math.sin(i + step)}\t` + `${step === 2 && i === 4 ? 'nan' : Math.cos(i)}\t${i}`,
    );
    await writeText(join(run, String(step).padStart(5, '0'), 'emb', 'tensors.tsv'), rows.join('\n') + '\n');
    const meta = Array.from({ length: 20 }, (_, i) => `${i % 2 ? 'odd' : 'even'}\t${i * 1.5}`);
    await writeText(
      join(run, String(step).padStart(5, '0'), 'emb', 'metadata.tsv'),
      `parity\tsize\n` + `${meta.join('\n')}\n`,
    );
  }
  const { watcher } = projectorWatcher(logdir, { colorBy: 'parity' });
  const summary = await watcher.run();
  assert.deepEqual([summary.frames, summary.skipped], [2, 1]);
  const state = await chainState(chainDir(run, 'emb'));
  assert.match(
    state.skipped[0]!.reason,
    /exp\/00002\/emb\/tensors\.tsv cannot be used: it holds NaN or infinite values/,
  );
  assert.deepEqual((await pageData(chainDir(run, 'emb'))).classNames, ['even', 'odd']);
});

test(
  'a restarted watcher with another --color-by continues the chain (the record knows the points, not their ' +
    'colours)',
  shared,
  async () => {
    const logdir = await temporaryDir('projector-watch-');
    const run = await copyRun('header-nosprite', join(logdir, 'exp'));
    await rm(join(run, '02560'), { recursive: true });
    const first = projectorWatcher(logdir, { colorBy: 'label' });
    assert.equal((await first.watcher.run()).frames, 2);
    await copyRun('header-nosprite', join(logdir, 'full'));
    await cp(join(logdir, 'full', '02560'), join(run, '02560'), { recursive: true });
    const again = projectorWatcher(logdir, { colorBy: 'test_index', run: 'exp' });
    const summary = await again.watcher.run();
    assert.deepEqual(again.errors, []);
    assert.equal(summary.frames, 1);
    assert.deepEqual(
      (await chainState(chainDir(run, 'penultimate'))).frames.map((f) => f.step),
      [0, 1280, 2560],
    );
  },
);
