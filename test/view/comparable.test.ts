import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { comparableRuns, compareUrl, localPointsKeys } from '../../src/view/comparable.ts';
import { TimelapsePage } from '../../src/view/page.ts';

async function writeRun(logdir: string, run: string, labels: number[]): Promise<void> {
  const count = labels.length;
  const page = new TimelapsePage({
    run,
    embeddingsDir: join(logdir, run, 'embeddings'),
    points: {
      labels: Uint8Array.from(labels),
      testIndices: labels.map((_, i) => 10 + i),
      classNames: ['a', 'b'],
      count,
    },
    frameFile: () => join(logdir, 'none.tsv'),
  });
  const record = { step: 5, accuracy: 0.5, neighborhoodHit: 0.5, knnPreservation: 0.5, displacement: 0 };
  await page.update([record], { step: 5, positions: Float64Array.from({ length: 2 * count }, (_, i) => i) });
}

test('runs whose pages show the same points are comparable; others and runs without a page are not', async (t) => {
  const logdir = await mkdtemp(join(tmpdir(), 'comparable-'));
  t.after(() => rm(logdir, { recursive: true, force: true }));
  await writeRun(logdir, 'one', [0, 1, 1, 0]);
  await writeRun(logdir, 'two', [0, 1, 1, 0]);
  await writeRun(logdir, 'other labels', [1, 1, 1, 0]);
  const dirs = ['one', 'two', 'other labels', 'no page'].map((run) => `${run}/embeddings`);
  const comparable = await comparableRuns(localPointsKeys(logdir), dirs);
  assert.deepEqual(Object.fromEntries(comparable), {
    'one/embeddings': ['two/embeddings'],
    'two/embeddings': ['one/embeddings'],
    'other labels/embeddings': [],
  });
  assert.equal(
    compareUrl('one/embeddings', 'other labels/embeddings'),
    '/one/embeddings/timelapse.html#compare=..%2F..%2Fother%2520labels%2Fembeddings',
  );
});
