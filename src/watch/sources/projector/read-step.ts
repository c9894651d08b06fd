/**
 * Reading one step of a user's projector chain, and deciding whether it is complete.
 *
 * PyTorch writes a step's `metadata.tsv`, then `sprite.png`, then `tensors.tsv`, and only then
 * rewrites `projector_config.pbtxt`; none of it atomically. A TensorFlow user may write in any
 * order. So a step counts as complete when its tensor file parses whole (every row full, the
 * last one ended by a line break, as far as TSV goes), has as many rows as its metadata has
 * points, its files did not change while being read, and either
 *
 * - a projector config that parsed whole lists it (PyTorch lists a step only after writing its
 *   files), or
 * - its files have been unchanged for the settle time (a step folder a restarted writer's config
 *   no longer lists; files written in another order): their modification time is that old, or
 *   this process has seen the same sizes and times for that long.
 *
 * A step that is not complete is looked at again later. A step whose files stay inconsistent
 * past the settle time is unusable: skipped with the reason, and the chain goes on.
 */
import { stat } from 'node:fs/promises';
import { isMissingFile, isRefusedFile, readRunFile } from './run-file.ts';
import type { StepFiles } from './discover.ts';
import { parseMetadata, type Metadata } from './metadata.ts';
import { parseTensorFile } from './tensors.ts';

const MAX_TENSOR_BYTES = 2 ** 31 - 1;
const MAX_METADATA_BYTES = 256 * 1024 * 1024;

/** One step's points, ready to become a frame. */
export interface StepData {
  step: number;
  /** Row-major `count × dim`. */
  points: Float32Array;
  count: number;
  dim: number;
  /** D = 2: the user's own projection, drawn as given (normalised and aligned), not reduced by t-SNE. */
  givenProjection: boolean;
  metadata?: Metadata;
}

export type StepReading =
  | { kind: 'ready'; data: StepData }
  /** Not complete yet (or gone): look again later. */
  | { kind: 'wait'; why: string }
  /** Complete but unusable: record the step as skipped with `reason`. */
  | { kind: 'skip'; reason: string };

/** Remembers since when each step's files have looked the same, for the settle time. */
export class SettleClock {
  private readonly seen = new Map<string, { signature: string; since: number }>();

  /** Milliseconds the files of `key` have had `signature`, by this clock. */
  unchangedFor(key: string, signature: string, now: number): number {
    const earlier = this.seen.get(key);
    if (earlier?.signature === signature) return now - earlier.since;
    this.seen.set(key, { signature, since: now });
    return 0;
  }

  forget(key: string): void {
    this.seen.delete(key);
  }
}

export interface ReadStepOptions {
  runDir: string;
  settleMs: number;
  clock: SettleClock;
  now?: () => number;
}

/** Sizes and modification times of the step's files, and the oldest age among them; null when one is gone. */
async function signatureOf(files: string[], now: number): Promise<{ signature: string; youngestAge: number } | null> {
  const parts: string[] = [];
  let youngestAge = Infinity;
  for (const path of files) {
    try {
      const stats = await stat(path);
      parts.push(`${stats.size}:${stats.mtimeMs}`);
      youngestAge = Math.min(youngestAge, now - stats.mtimeMs);
    } catch {
      return null;
    }
  }
  return { signature: parts.join('|'), youngestAge };
}

/** The step's files (tensors, metadata). */
function stepFiles(step: StepFiles): string[] {
  return [step.tensorPath, ...(step.metadataPath ? [step.metadataPath] : [])];
}

/**
 * Whether the step's files have been unchanged for the settle time (by their modification time,
 * or as this clock has seen them); null when one of them is gone. Only sizes and times: cheap
 * enough to ask of every step at every look.
 */
export async function stepSettled(
  step: StepFiles,
  settleMs: number,
  clock: SettleClock,
  now: number,
): Promise<{ settled: boolean; signature: string } | null> {
  const found = await signatureOf(stepFiles(step), now);
  if (found === null) return null;
  const settled =
    found.youngestAge >= settleMs || clock.unchangedFor(step.tensorPath, found.signature, now) >= settleMs;
  return { settled, signature: found.signature };
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

/** Reads `step` and says whether it is ready, not complete yet, or unusable (see the module comment). */
export async function readStep(step: StepFiles, options: ReadStepOptions): Promise<StepReading> {
  const now = options.now ?? Date.now;
  const files = stepFiles(step);
  const key = step.tensorPath;
  const before = await stepSettled(step, options.settleMs, options.clock, now());
  if (before === null) return { kind: 'wait', why: 'a file of the step is not there (yet, or any more)' };
  const { settled } = before;

  let problem: string | undefined;
  let data: StepData | undefined;
  try {
    const bytes = await readRunFile(options.runDir, step.tensorPath, MAX_TENSOR_BYTES);
    const tensor = parseTensorFile(bytes, step.tensorPath, step.tensorShape);
    let metadata: Metadata | undefined;
    if (step.metadataPath) {
      const text = await readRunFile(options.runDir, step.metadataPath, MAX_METADATA_BYTES);
      metadata = parseMetadata(text.toString('utf8'), step.metadataPath);
    }
    if (!tensor.endsWithNewline && !settled) {
      // Writers end every row with a line break; a file without one that has settled is taken as whole.
      problem = `${step.tensorPath} does not end with a line break: its last row may be cut off`;
    } else if (metadata && metadata.rows.length !== tensor.rows) {
      problem =
        `${step.tensorPath} has ${tensor.rows} rows but ${step.metadataPath} has ${metadata.rows.length} points; ` +
        'both must have one per point';
    } else if (tensor.cols < 2) {
      problem = `${step.tensorPath} has ${tensor.cols} column; a point needs at least 2 dimensions`;
    }
    const { data: points, rows: count, cols: dim } = tensor;
    data = { step: step.step, points, count, dim, givenProjection: dim === 2, metadata };
  } catch (error) {
    if (isMissingFile(error)) return { kind: 'wait', why: firstLine(error) };
    // A file that is not a regular file, is outside the run or too large will not change by waiting.
    if (isRefusedFile(error)) return { kind: 'skip', reason: firstLine(error) };
    problem = firstLine(error);
  }

  const after = await signatureOf(files, now());
  if (after === null) return { kind: 'wait', why: 'a file of the step went away while it was read' };
  if (after.signature !== before.signature) {
    options.clock.forget(key);
    return { kind: 'wait', why: 'the step was being written while it was read' };
  }
  if (problem !== undefined) return settled ? { kind: 'skip', reason: problem } : { kind: 'wait', why: problem };
  if (!step.listed && !settled) {
    return { kind: 'wait', why: 'not in the projector config, and not yet unchanged for the settle time' };
  }
  options.clock.forget(key);
  return { kind: 'ready', data: data! };
}
