/**
 * Reading a step of a user's projector embeddings: a 10,000 × 128 `tensors.tsv` as PyTorch's
 * `add_embedding` writes it (each float32 as Python's `str(float)`: up to 17 significant digits,
 * about 25 MB), parsed by our byte parser and, for comparison, by `split` and `Number`.
 *
 *   tsx scripts/bench-projector.ts [--points 10000] [--dims 128] [--repeats 5] [--json]
 */
import { parseArgs } from 'node:util';
import { parseTensorTsv } from '../src/watch/sources/projector/tensors.ts';
import { Random } from '../src/util/random.ts';

const { values } = parseArgs({
  options: {
    points: { type: 'string', default: '10000' },
    dims: { type: 'string', default: '128' },
    repeats: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
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

function median(work: () => void): number {
  work();
  const times: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const started = performance.now();
    work();
    times.push((performance.now() - started) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

const rows = [
  { name: 'split + Number (from bytes)', seconds: median(() => naive(bytes.toString('utf8'))) },
  { name: 'byte parser (parseTensorTsv)', seconds: median(() => parseTensorTsv(bytes, 'bench.tsv')) },
];
const size = `${points.toLocaleString('en-US')} × ${dims}, ${(bytes.length / 1e6).toFixed(1)} MB`;
if (values.json) {
  for (const row of rows) console.log(JSON.stringify({ ...row, points, dims, bytes: bytes.length }));
} else {
  console.log(`tensors.tsv of ${size}, median of ${repeats}`);
  for (const row of rows) console.log(`  ${row.name.padEnd(32)} ${row.seconds.toFixed(3)} s`);
}
