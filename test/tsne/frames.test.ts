/**
 * On the shared CIFAR-10 frames (real embeddings of a training run): the warm start moves the
 * layout less than a cold start, at equal or better 10-NN preservation. Frames 07 → 08 → 09,
 * chained like the watcher (normalise, Procrustes onto the previous aligned frame).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alignFrame } from '../../src/align/index.ts';
import { displacement, tsneFrame } from '../../src/tsne/index.ts';
import { needs } from '../helpers/requirements.ts';

const FIXTURES = join(import.meta.dirname, '../../../shared/fixtures/embeddings');
const D = 128;

function readFrame(index: number): Float32Array {
  const rows = readFileSync(join(FIXTURES, `frame_0${index}.tsv`), 'utf8')
    .trim()
    .split('\n');
  const X = new Float32Array(rows.length * D);
  rows.forEach((row, i) => row.split('\t').forEach((value, t) => (X[i * D + t] = Number(value))));
  return X;
}

test(
  'warm start: lower displacement than cold start, equal or better 10-NN preservation',
  { skip: needs('shared') },
  () => {
    const frames = [7, 8, 9].map(readFrame);
    const n = frames[0].length / D;
    const first = tsneFrame(frames[0], n, D, { seed: 0 });
    const measure = (warm: boolean) => {
      let previous = first.positions;
      let moved = 0;
      let knn = 0;
      for (const X of frames.slice(1)) {
        const frame = tsneFrame(X, n, D, { seed: 0, init: warm ? previous : undefined });
        assert.equal(frame.warm, warm);
        const aligned = alignFrame(frame.positions, previous);
        moved += displacement(aligned, previous) / 2;
        knn += frame.knnPreservation / 2;
        previous = aligned;
      }
      return { moved, knn };
    };
    const warm = measure(true);
    const cold = measure(false);
    // "Equal" allows 0.005 of 10-NN preservation: about the spread between seeds of one method.
    assert.ok(warm.knn >= cold.knn - 0.005, `10-NN preservation warm ${warm.knn} vs cold ${cold.knn}`);
    assert.ok(warm.moved < cold.moved, `displacement warm ${warm.moved} vs cold ${cold.moved}`);
    console.log(
      `# frames 07→09: warm displacement ${warm.moved.toFixed(3)}, 10-NN ${warm.knn.toFixed(3)}; cold ` +
        `${cold.moved.toFixed(3)}, ${cold.knn.toFixed(3)}`,
    );
  },
);
