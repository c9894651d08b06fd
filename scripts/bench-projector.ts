/**
 * A user's projector embeddings, step by step:
 * - reading a 10,000 × 128 `tensors.tsv` as PyTorch's `add_embedding` writes it (each float32 as
 *   Python's `str(float)`: up to 17 significant digits, about 25 MB), by our byte parser and, for
 *   comparison, by `split` and `Number`;
 * - a 1,000-point step from its files to the finished frame (t-SNE, PNG, GIF, TensorBoard,
 *   projector, page): the real watcher with `--once` on a run of 3 PyTorch-style steps, the
 *   per-stage seconds of each frame as the watcher reports them.
 *
 *   tsx scripts/bench-projector.ts [--points 10000] [--dims 128] [--repeats 5] [--frame-points 1000]
 *     [--tsne-threads N (default: every core, as watch)] [--json]
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Watcher } from '../src/watch/daemon.ts';
import { createStages } from '../src/watch/real-stages.ts';
import type { FrameReport } from '../src/watch/report.ts';
import { projectorSource } from '../src/watch/sources/projector.ts';
import { parseTensorTsv } from '../src/watch/sources/projector/tensors.ts';
import { Random } from '../src/util/random.ts';
import { parseScriptArgs } from './script-args.ts';

const { values } = parseScriptArgs('bench:projector', import.meta.url, {
  points: { type: 'string', default: '10000' },
  dims: { type: 'string', default: '128' },
  repeats: { type: 'string', default: '5' },
  'frame-points': { type: 'string', default: '1000' },
  'tsne-threads': { type: 'string' },
  json: { type: 'boolean', default: false },
});
const points = Number(values.points);
const dims = Number(values.dims);
const repeats = Number(values.repeats);

/** Python's repr of a float32 widened to float64, as `str(tensor[i].item())` prints it. */
function pythonRepr(value: number): string {
  const text = String(value);
  if (/e-\d$/.test(text)) return text.replace(/e-(\d)$/, 'e-0$1');
  return text.includes('.') || text.includes('e') ? text : `${text}.0`;
}

const random = new Random(1);
const lines: string[] = [];
for (let i = 0; i < points; i++) {
  const row: string[] = [];
  for (let j = 0; j < dims; j++) row.push(pythonRepr(Math.fround(Math.abs(random.normal()) * 0.03)));
  lines.push(row.join('\t'));
}
const bytes = Buffer.from(lines.join('\n') + '\n');

function naive(text: string): Float32Array {
  const rows = text.trimEnd().split('\n');
  const data = new Float32Array(rows.length * dims);
  rows.forEach((row, r) => row.split('\t').forEach((cell, c) => (data[r * dims + c] = Number(cell))));
  return data;
}

/**
 * Median and fastest of `repeats` runs of each parser, taken in turns, so a machine whose load
 * changes during the run weighs on both alike.
 */
function timeInTurns(works: (() => void)[]): { median: number; best: number }[] {
  for (const work of works) work();
  const times = works.map(() => [] as number[]);
  for (let k = 0; k < repeats; k++) {
    works.forEach((work, w) => {
      const started = performance.now();
      work();
      times[w]!.push((performance.now() - started) / 1000);
    });
  }
  return times.map((list) => {
    const sorted = list.sort((a, b) => a - b);
    return { median: sorted[Math.floor(sorted.length / 2)]!, best: sorted[0]! };
  });
}

const [naiveTime, byteTime] = timeInTurns([
  () => naive(bytes.toString('utf8')),
  () => parseTensorTsv(bytes, 'bench.tsv'),
]);
const rows: { name: string; seconds: number; note?: string }[] = [
  { name: 'split + Number (from bytes)', seconds: naiveTime!.median, note: `fastest ${naiveTime!.best.toFixed(3)} s` },
  { name: 'byte parser (parseTensorTsv)', seconds: byteTime!.median, note: `fastest ${byteTime!.best.toFixed(3)} s` },
];
/** A run of three steps, `count` points in 10 drifting clusters, written as PyTorch writes them. */
async function pytorchRun(runDir: string, count: number): Promise<void> {
  const centres = Array.from({ length: 10 }, () => Array.from({ length: dims }, () => random.normal()));
  const metadata = Array.from({ length: count }, (_, i) => `class ${i % 10}`).join('\n') + '\n';
  let config = '';
  for (const [k, step] of [0, 1000, 2000].entries()) {
    const folder = `${String(step).padStart(5, '0')}/default`;
    await mkdir(join(runDir, folder), { recursive: true });
    const rows: string[] = [];
    for (let i = 0; i < count; i++) {
      const centre = centres[i % 10]!;
      rows.push(centre.map((c) => pythonRepr(Math.fround(c * (0.3 + k * 0.3) + random.normal()))).join('\t'));
    }
    await writeFile(join(runDir, folder, 'metadata.tsv'), metadata);
    await writeFile(join(runDir, folder, 'tensors.tsv'), rows.join('\n') + '\n');
    config += `embeddings {\n  tensor_name: "default:${folder.slice(0, 5)}"\n`;
    config += `  metadata_path: "${folder}/metadata.tsv"\n  tensor_path: "${folder}/tensors.tsv"\n}\n`;
    await writeFile(join(runDir, 'projector_config.pbtxt'), config);
  }
}

async function frameTimes(count: number): Promise<FrameReport[]> {
  const logdir = await mkdtemp(join(tmpdir(), 'bench-projector-'));
  try {
    await pytorchRun(join(logdir, 'run'), count);
    const reports: FrameReport[] = [];
    const quiet = () => undefined;
    const reporter = {
      info: quiet,
      started: quiet,
      skipped: quiet,
      error: quiet,
      frame: (r: FrameReport) => reports.push(r),
    };
    const tsneThreads = values['tsne-threads'] === undefined ? undefined : Number(values['tsne-threads']);
    const stages = await createStages({ inference: 'auto', tsneThreads, log: quiet });
    const watcher = new Watcher({
      logdir,
      once: true,
      settings: { valSize: count, seed: 0, perplexity: 30 },
      stages,
      reporter,
      gifTween: 4,
      moreSources: () => [projectorSource({ log: quiet })],
    });
    await watcher.run();
    return reports;
  } finally {
    await rm(logdir, { recursive: true, force: true });
  }
}

const framePoints = Number(values['frame-points']);
const frames = await frameTimes(framePoints);
frames.forEach((report, k) => {
  const { seconds } = report;
  const parts = (['load', 'tsne', 'align', 'measure', 'render', 'write'] as const)
    .map((stage) => `${stage} ${seconds[stage].toFixed(3)} s`)
    .join(', ');
  rows.push({
    name: `${framePoints.toLocaleString('en-US')}-point step → frame ${k + 1}${k === 0 ? ' (cold t-SNE)' : ''}`,
    seconds: seconds.total,
    note: parts,
  } as (typeof rows)[number]);
});

const size = `${points.toLocaleString('en-US')} × ${dims}, ${(bytes.length / 1e6).toFixed(1)} MB`;
if (values.json) {
  for (const row of rows) console.log(JSON.stringify({ ...row, points, dims, bytes: bytes.length }));
} else {
  console.log(`tensors.tsv of ${size}, median of ${repeats} (taken in turns)`);
  for (const row of rows) {
    console.log(`  ${row.name.padEnd(44)} ${row.seconds.toFixed(3)} s${row.note ? `  (${row.note})` : ''}`);
  }
}
