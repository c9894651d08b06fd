/**
 * `embedding-timelapse tsne`: one frame of the watcher's pipeline from files. Reads a TSV of
 * embeddings, runs t-SNE (cold, or warm-started from `--init`), normalises, aligns to `--init`
 * with Procrustes, writes the 2-D TSV, and prints time, KL and the quality measures.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { UserError, describeFsError, isUserError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { formatNumberTable, parseNumberTable, type NumberTable } from '../util/tsv.ts';
import { alignFrame, normalizeFrame } from '../align/index.ts';
import { displacement, neighborhoodHit, tsneFrame } from '../tsne/index.ts';
import { parseTensorTsv, type StepTensor } from '../watch/sources/projector/tensors.ts';
import { intOption, numberOption, parseCommand } from './args.ts';
import { stdio, type CommandOutput } from './output.ts';

const USAGE = `usage: embedding-timelapse tsne --input emb.tsv --out out2d.tsv [options]

Projects a TSV of embeddings (one row per point, tab-separated numbers, no header) to 2-D, the
way the watcher makes a frame: t-SNE (Barnes-Hut), normalised to zero mean and unit std per axis,
rotated onto --init with orthogonal Procrustes when given.

options:
  --input FILE        embeddings, n rows × d columns
  --out FILE          where to write the 2-D frame (n rows × 2 columns)
  --labels FILE       one label per row (numbers or names; a header row is skipped when the
                      file has several columns, as in TensorBoard projector metadata)
  --init FILE         previous 2-D frame (n × 2): warm start from it, then align to it
  --perplexity P      default 30
  --seed S            default 0
  --stability S       warm start: hold points near their previous place (0 = off, try 0.002)
  --threads N         threads for 5,000 points and more (default: every core)
  --png FILE          also draw the frame as a PNG scatter plot
  --json              print the result as one JSON object
  --help              this text`;

export async function run(argv: string[], output: CommandOutput = stdio): Promise<number> {
  const args = parseCommand(
    'tsne',
    argv,
    {
      help: USAGE,
      options: {
        input: { type: 'string' },
        out: { type: 'string' },
        labels: { type: 'string' },
        init: { type: 'string' },
        perplexity: { type: 'string' },
        seed: { type: 'string' },
        stability: { type: 'string' },
        threads: { type: 'string' },
        png: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    },
    output,
  );
  if (args === null) return 0;
  const { values } = args;
  if (values.input === undefined)
    throw new UserError("tsne: --input is required (a TSV of embeddings); see 'embedding-timelapse tsne --help'");
  if (values.out === undefined)
    throw new UserError("tsne: --out is required (where to write the 2-D TSV); see 'embedding-timelapse tsne --help'");
  const perplexity = numberOption('tsne', 'perplexity', values.perplexity, 30);
  if (!(perplexity > 0)) throw new UserError(`tsne: --perplexity must be positive, got '${values.perplexity}'`);
  const seed = intOption('tsne', 'seed', values.seed, 0);
  const stability = numberOption('tsne', 'stability', values.stability, 0);
  if (stability < 0) throw new UserError(`tsne: --stability must be >= 0, got '${values.stability}'`);
  const threads = intOption('tsne', 'threads', values.threads, availableParallelism());
  if (threads < 1) throw new UserError(`tsne: --threads must be >= 1, got '${values.threads}'`);

  const input = await readEmbeddings(values.input);
  const { rows: n, cols: d } = input;
  if (n < 4) throw new UserError(`tsne: ${values.input} has ${n} rows; t-SNE needs at least 4 points`);
  if (perplexity >= n)
    throw new UserError(`tsne: --perplexity ${perplexity} must be below the number of points (${n})`);
  const labels = values.labels === undefined ? undefined : await readLabels(values.labels, n);
  let previous: Float64Array | undefined;
  if (values.init !== undefined) {
    const init = await readMatrix(values.init);
    if (init.cols !== 2)
      throw new UserError(`tsne: ${values.init} has ${init.cols} columns; a 2-D frame has 2 (x and y)`);
    if (init.rows !== n) {
      throw new UserError(
        `tsne: ${values.init} has ${init.rows} rows but ${values.input} has ${n}; --init must be a frame of the ` +
          `same points`,
      );
    }
    previous = normalizeFrame(Float64Array.from(init.data));
  }

  const X = input.data;
  const result = tsneFrame(X, n, d, { init: previous, seed, perplexity, stability, threads });
  const positions = previous ? alignFrame(result.positions, previous) : result.positions;
  const report = {
    input: values.input,
    points: n,
    dimensions: d,
    warm: result.warm,
    seconds: round(result.seconds, 3),
    iterations: result.iterations,
    kl: round(result.kl, 4),
    knnPreservation: round(result.knnPreservation, 4),
    neighborhoodHit: labels ? round(neighborhoodHit(positions, labels.values), 4) : undefined,
    displacement: previous ? round(displacement(positions, previous), 4) : undefined,
    out: values.out,
    png: values.png,
  };

  const wrote = await writeFileAtomic(values.out, formatFrame(positions));
  if (values.png !== undefined) await writePng(values.png, positions, labels, n, report);

  // `--out /dev/stdout`: the frame is the output, so the summary goes to stderr.
  const say = (text: string) => (wrote === 'stream' ? output.message(text) : output.line(text));
  if (values.json) say(JSON.stringify(report));
  else {
    const parts = [
      `${n} points × ${d}: ${result.warm ? 'warm start from ' + values.init : 'cold start (PCA)'}`,
      `${report.seconds} s, ${report.iterations} iterations`,
      `KL ${report.kl}`,
      `10-NN preservation ${report.knnPreservation}`,
    ];
    if (report.neighborhoodHit !== undefined) parts.push(`neighbourhood hit ${report.neighborhoodHit}`);
    if (report.displacement !== undefined) parts.push(`displacement ${report.displacement}`);
    say(parts.join(', '));
    say(`wrote ${values.out}${values.png ? ` and ${values.png}` : ''}`);
  }
  return 0;
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** The 2-D frame as TSV, 6 decimals (x and y of one point per row). */
function formatFrame(positions: Float64Array): string {
  return formatNumberTable(positions, 2, 6);
}

async function readBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new UserError(`tsne: ${describeFsError(error, 'read', path)}`);
  }
}

async function readText(path: string): Promise<string> {
  return (await readBytes(path)).toString('utf8');
}

/** A TSV of numbers (see `parseNumberTable`); errors name the file, the row and the column. */
async function readMatrix(path: string): Promise<NumberTable> {
  return parseNumberTable(await readText(path), path, { prefix: 'tsne: ' });
}

/**
 * The embeddings, rounded to float32 as t-SNE uses them, read by the projector's byte parser
 * (`parseTensorTsv`): 2,000 × 128 in 28–33 ms, where `parseNumberTable` took 47–68 ms of a
 * 0.7 s command. Errors name the file, the row and the column.
 */
async function readEmbeddings(path: string): Promise<StepTensor> {
  const bytes = await readBytes(path);
  let tensor: StepTensor;
  try {
    tensor = parseTensorTsv(bytes, path);
  } catch (error) {
    throw isUserError(error) ? new UserError(`tsne: ${error.message}`) : error;
  }
  const bad = tensor.data.findIndex((value) => !Number.isFinite(value));
  if (bad >= 0) {
    const [row, column] = [Math.floor(bad / tensor.cols) + 1, (bad % tensor.cols) + 1];
    throw new UserError(
      `tsne: ${path} row ${row} column ${column} is '${tensor.data[bad]}', not a finite number; fix or remove that row`,
    );
  }
  return tensor;
}

/** Labels as class indices (0–255) plus names: numeric labels are used as they are, names get indices in order of
 * appearance. */
async function readLabels(path: string, n: number): Promise<{ values: Uint8Array; names: string[] }> {
  const lines = (await readText(path)).split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines.pop();
  // Projector metadata: with several columns the first row is a header and the first column is used.
  const hasHeader = lines.length > 0 && lines[0].includes('\t');
  const rows = (hasHeader ? lines.slice(1) : lines).map((line) => line.split('\t')[0].trim());
  if (rows.length !== n)
    throw new UserError(`tsne: ${path} has ${rows.length} labels but the input has ${n} rows; give one label per row`);
  const numeric = rows.every((label) => /^\d+$/.test(label) && Number(label) < 256);
  if (numeric) {
    const values = Uint8Array.from(rows, Number);
    const names = Array.from({ length: Math.max(...values) + 1 }, (_, c) => String(c));
    return { values, names };
  }
  const names: string[] = [];
  const index = new Map<string, number>();
  const values = new Uint8Array(n);
  rows.forEach((label, i) => {
    if (!index.has(label)) {
      if (names.length === 256)
        throw new UserError(`tsne: ${path} has more than 256 distinct labels; the plot can colour at most 256`);
      index.set(label, names.length);
      names.push(label);
    }
    values[i] = index.get(label)!;
  });
  return { values, names };
}

async function writePng(
  path: string,
  positions: Float64Array,
  labels: { values: Uint8Array; names: string[] } | undefined,
  n: number,
  report: { kl: number; knnPreservation: number; displacement?: number },
): Promise<void> {
  if (!existsSync(new URL('../render/index.ts', import.meta.url)))
    throw new UserError('tsne: --png needs src/render/index.ts, which is missing from this installation');
  const { renderScatter } = await import('../render/index.ts');
  const caption =
    `KL ${report.kl}, 10-NN preservation ${report.knnPreservation}` +
    `${report.displacement !== undefined ? `, displacement ${report.displacement}` : ''}`;
  const png = renderScatter({
    points: positions,
    labels: labels?.values ?? new Uint8Array(n),
    classNames: labels?.names ?? ['points'],
    title: 't-SNE Embedding Projection',
    caption,
  });
  await writeFileAtomic(path, png);
}
