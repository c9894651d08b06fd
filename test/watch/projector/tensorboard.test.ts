/**
 * The real TensorBoard 2.21 (`../shared/tools/tensorboard/serve`) on a log directory of PyTorch's
 * own runs after the watcher drew them: it serves the user's projector entries unchanged and, as
 * a run of its own, our frame images, scalars and projector entries.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { TENSORBOARD_FLAGS } from '../../../src/tensorboard/command.ts';
import { parseTensorTsv } from '../../../src/watch/sources/projector/tensors.ts';
import { needs } from '../../helpers/requirements.ts';
import { Served } from '../../tensorboard-live/helpers/served.ts';
import { startTensorBoard } from '../../tensorboard-live/helpers/tensorboard-server.ts';
import { copyRun, temporaryDir } from './helpers.ts';
import { chainDir, projectorWatcher } from './helpers-watch.ts';

const STEPS = [0, 1280, 2560, 5120];

test(
  "TensorBoard serves the user's projector entries unchanged and our frames as a run of its own",
  { skip: needs('tensorboard') },
  async (t) => {
    const logdir = await temporaryDir('projector-tensorboard-');
    await copyRun('basic', join(logdir, 'basic'));
    await copyRun('header-nosprite', join(logdir, 'nosprite'));
    const { watcher, errors } = projectorWatcher(logdir);
    assert.equal((await watcher.run()).frames, 7);
    assert.deepEqual(errors, []);

    const server = await startTensorBoard(logdir, TENSORBOARD_FLAGS);
    t.after(() => server.stop());
    const served = new Served(server.url, server.output);
    const ours = 'basic/timelapse/default';

    // The user's entries, as PyTorch wrote them, and their files byte for byte.
    const projectorRuns = await served.projectorRuns();
    for (const run of ['basic', ours, 'nosprite', 'nosprite/timelapse/penultimate']) {
      assert.ok(projectorRuns.includes(run), `projector run ${run} in ${projectorRuns.join(', ')}`);
    }
    const entries = await served.projectorEntries('basic');
    assert.deepEqual(
      entries.map((e) => e.tensorName),
      STEPS.map((s) => `default:${String(s).padStart(5, '0')}`),
    );
    const tensorFile = await readFile(join(logdir, 'basic', '01280', 'default', 'tensors.tsv'));
    const servedTensor = await served.projectorFile('tensor', 'basic', 'default:01280');
    const values = new Float32Array(servedTensor.buffer, servedTensor.byteOffset, servedTensor.length / 4);
    assert.deepEqual(values.length, 300 * 128);
    const mine = parseTensorTsv(tensorFile, 'tensors.tsv').data;
    let off = 0;
    for (let i = 0; i < values.length; i++) if (values[i] !== mine[i]) off++;
    assert.ok(off <= values.length * 0.001, `${off} values differ from TensorBoard's own parse`);
    const metadata = await served.projectorFile('metadata', 'basic', 'default:01280');
    assert.equal(
      metadata.toString(),
      await readFile(join(logdir, 'basic', '01280', 'default', 'metadata.tsv'), 'utf8'),
    );

    // Our chain: its images and scalars at every step, the PNGs we wrote, and its own projector entries.
    assert.ok((await served.runs()).includes(ours));
    const images = await served.images(ours, 'embeddings/tsne');
    assert.deepEqual(
      images.map((i) => i.step),
      STEPS,
    );
    const png = await served.bytes(images[2]!.path);
    assert.ok(
      png.equals(await readFile(join(chainDir(join(logdir, 'basic'), 'default'), 'images', 'step-000002560.png'))),
    );
    assert.deepEqual(await served.scalarSteps(ours, 'embeddings/knn_preservation'), STEPS);
    const frames = await served.projectorEntries(ours);
    assert.ok(
      frames.some((e) => e.tensorName === 'tsne:step-000005120' && e.sprite?.singleImageDim.join() === '32,32'),
    );
    const sprite = await served.projectorFile('sprite_image', ours, 'tsne:step-000005120');
    assert.equal(sprite.subarray(1, 4).toString(), 'PNG');
    const noSprite = await served.projectorEntries('nosprite/timelapse/penultimate');
    assert.ok(noSprite.length > 0 && noSprite.every((e) => e.sprite === undefined));
  },
);
