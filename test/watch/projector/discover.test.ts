import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { needs } from '../../helpers/requirements.ts';
import {
  decodeTag,
  discoverRunChains,
  entryTagAndStep,
  isOwnEntry,
  listProjectorRuns,
} from '../../../src/watch/sources/projector/discover.ts';
import { PYTORCH_RUNS, copyRun, pytorchEntry, temporaryDir, writeText } from './helpers.ts';

const shared = { skip: needs('shared') };

test('basic/: one chain "default" with the four steps its config lists, with sprites', shared, async () => {
  const { chains, configProblem } = await discoverRunChains(join(PYTORCH_RUNS, 'basic'));
  assert.equal(configProblem, undefined);
  assert.deepEqual(
    chains.map((c) => c.tag),
    ['default'],
  );
  const steps = chains[0]!.steps;
  assert.deepEqual(
    steps.map((s) => s.step),
    [0, 1280, 2560, 5120],
  );
  assert.ok(steps.every((s) => s.listed && s.spritePath?.endsWith('sprite.png') && s.tileSize?.join() === '32,32'));
  assert.equal(steps[1]!.tensorPath, join(PYTORCH_RUNS, 'basic', '01280', 'default', 'tensors.tsv'));
});

test(
  'restarted/: the config lists two steps, the folders give all five; tiles borrowed from the config',
  shared,
  async () => {
    const { chains } = await discoverRunChains(join(PYTORCH_RUNS, 'restarted'));
    assert.equal(chains.length, 1);
    const steps = chains[0]!.steps;
    assert.deepEqual(
      steps.map((s) => [s.step, s.listed]),
      [
        [0, false],
        [1280, false],
        [2560, false],
        [3840, true],
        [5120, true],
      ],
    );
    assert.ok(steps.every((s) => s.metadataPath && s.spritePath && s.tileSize?.join() === '32,32'));
  },
);

test('header-nosprite/: tag "penultimate", three steps, no sprite', shared, async () => {
  const { chains } = await discoverRunChains(join(PYTORCH_RUNS, 'header-nosprite'));
  assert.deepEqual(
    chains.map((c) => [c.tag, c.steps.map((s) => s.step)]),
    [['penultimate', [0, 1280, 2560]]],
  );
  assert.ok(chains[0]!.steps.every((s) => s.spritePath === undefined && s.metadataPath !== undefined));
});

test('a percent-encoded tag folder is decoded and joined with its config entry', async () => {
  const run = await temporaryDir();
  for (const step of [0, 10]) {
    const dir = join(run, String(step).padStart(5, '0'), 'layer%2ffc%25');
    await writeText(join(dir, 'tensors.tsv'), '1\t2\n3\t4\n');
    await writeText(join(dir, 'metadata.tsv'), 'a\nb\n');
  }
  await writeText(join(run, 'projector_config.pbtxt'), pytorchEntry('layer/fc%', 10, { folderTag: 'layer%2ffc%25' }));
  const { chains } = await discoverRunChains(run);
  assert.deepEqual(
    chains.map((c) => [c.tag, c.steps.map((s) => [s.step, s.listed])]),
    [
      [
        'layer/fc%',
        [
          [0, false],
          [10, true],
        ],
      ],
    ],
  );
  assert.equal(decodeTag('a%5cb%2fc'), 'a\\b/c');
  assert.equal(decodeTag('100%'), '100%');
});

test(
  'a TensorFlow-style config: steps from numbers in names or paths, an entry without one is a one-frame ' + 'chain',
  async () => {
    const run = await temporaryDir();
    for (const name of ['emb_epoch3.tsv', 'emb_epoch10.tsv', 'word.tsv', 'ckpt-7/logits.tsv']) {
      await writeText(join(run, name), '1\t2\n3\t4\n');
    }
    await writeText(
      join(run, 'projector_config.pbtxt'),
      [
        'embeddings { tensor_name: "emb_epoch10" tensor_path: "emb_epoch10.tsv" }',
        'embeddings { tensor_name: "emb_epoch3" tensor_path: "emb_epoch3.tsv" tensor_shape: [2, 2] }',
        'embeddings { tensor_name: "word_embedding" tensor_path: "word.tsv" }',
        'embeddings { tensor_name: "logits" tensor_path: "ckpt-7/logits.tsv" }',
        'embeddings { tensor_name: "missing:3" tensor_path: "gone.tsv" }',
        'embeddings { tensor_name: "no_path" }',
      ].join('\n'),
    );
    const { chains } = await discoverRunChains(run);
    assert.deepEqual(
      chains.map((c) => [c.tag, c.steps.map((s) => s.step)]),
      [
        ['emb_epoch', [3, 10]],
        ['logits', [7]],
        ['word_embedding', [0]],
      ],
    );
    assert.deepEqual(chains[0]!.steps[0]!.tensorShape, [2, 2]);
    assert.deepEqual(entryTagAndStep({ tensor_name: 'default:00512' }), { tag: 'default', step: 512 });
  },
);

test("this project's own projector entries are never taken as input", async () => {
  const run = await temporaryDir();
  await writeText(join(run, 'embeddings/projector/step-000000512.tsv'), '1\t2\n');
  await writeText(join(run, 'embeddings/projector/step-000000512-tsne.tsv'), '1\t2\t0\n');
  await writeText(
    join(run, 'projector_config.pbtxt'),
    [
      'embeddings { tensor_name: "embedding:step-000000512" tensor_path: "embeddings/projector/step-000000512.tsv" }',
      'embeddings { tensor_name: "tsne:step-000000512" tensor_path: "embeddings/projector/step-000000512-tsne.tsv" }',
    ].join('\n'),
  );
  assert.deepEqual((await discoverRunChains(run)).chains, []);
  assert.equal(isOwnEntry({ tensor_name: 'default/tsne:step-000001280', tensor_path: 'x.tsv' }), true);
  assert.equal(isOwnEntry({ tensor_name: 'default:01280', tensor_path: '01280/default/tensors.tsv' }), false);
});

test('a config caught mid-write is reported; the step folders still count, none of them listed', shared, async () => {
  const run = await copyRun('basic', join(await temporaryDir(), 'exp'));
  const { readFile } = await import('node:fs/promises');
  const config = await readFile(join(run, 'projector_config.pbtxt'), 'utf8');
  await writeText(join(run, 'projector_config.pbtxt'), config.slice(0, Math.floor(config.length * 0.6)));
  const { chains, configProblem } = await discoverRunChains(run);
  assert.match(configProblem ?? '', /projector_config\.pbtxt:\d+:\d+: /);
  assert.deepEqual(
    chains[0]!.steps.map((s) => [s.step, s.listed]),
    [
      [0, false],
      [1280, false],
      [2560, false],
      [5120, false],
    ],
  );
});

test('runs are the log directory folders with a projector config or step folders', shared, async () => {
  const logdir = await temporaryDir();
  await copyRun('basic', join(logdir, 'a'));
  await copyRun('header-nosprite', join(logdir, 'b'));
  await writeText(join(logdir, 'c', 'events.out.tfevents.1.x'), '');
  assert.deepEqual(await listProjectorRuns(logdir), ['a', 'b']);
  assert.deepEqual(await listProjectorRuns(logdir, 'b'), ['b']);
});
