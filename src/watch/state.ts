/**
 * The watcher's memory of a run: which checkpoints became frames (with their measures, so a
 * restarted watcher can rewrite a TensorBoard point that was lost), which were skipped and why,
 * and the settings the chain was started with. Frames' 2-D coordinates live beside it as
 * `frames/step-<step>.tsv`; the last one is the next frame's initialisation.
 *
 * `state.json` is written atomically and last for every frame: it is the commit point. Whatever
 * else a killed watcher left behind for a later step is redone (idempotently) on restart.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UserError, describeFsError } from '../errors.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { formatNumberTable, parseNumberTable } from '../util/tsv.ts';
import type { FrameRecord, SkipRecord } from './record.ts';

export { lastHandledStep, type FrameRecord, type SkipRecord } from './record.ts';

export const STATE_FORMAT = 1;

/** Settings that must stay the same for the chain to mean anything. */
export interface ChainSettings {
  valSize: number;
  seed: number;
  perplexity: number;
}

export interface RunState extends ChainSettings {
  format: number;
  /**
   * SHA-256 of the validation subset's pixels and labels: which images the frames show. Absent
   * in state files written before it was recorded; the watcher adds it when it continues one.
   */
  validationFingerprint?: string;
  /**
   * What model the chain's frames are of (`describeModel`), when the source says: a step of
   * another model is refused. Set by the chain's first frame that knows it.
   */
  model?: string;
  frames: FrameRecord[];
  skipped: SkipRecord[];
}

export function emptyState(settings: ChainSettings, validationFingerprint: string): RunState {
  return { format: STATE_FORMAT, ...settings, validationFingerprint, frames: [], skipped: [] };
}

/** `sha256:<hex>` of the subset's labels and NHWC pixels, in order. */
export function validationFingerprint(validation: {
  images: Uint8Array | null;
  labels: Uint8Array;
  identity?: Uint8Array;
}): string {
  const hash = createHash('sha256');
  // A source whose labels are only colours (chosen by --color-by) says what the points are instead.
  hash.update(validation.identity ?? validation.labels);
  if (validation.images) hash.update(validation.images);
  return `sha256:${hash.digest('hex')}`;
}

export async function readState(path: string): Promise<RunState | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new UserError(describeFsError(error, 'read', path));
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new UserError(
      `${path} is not valid JSON (${(error as Error).message}); move it away and the watcher starts the chain over`,
    );
  }
  const state = raw as Partial<RunState> | null;
  if (
    state === null ||
    typeof state !== 'object' ||
    state.format !== STATE_FORMAT ||
    !Array.isArray(state.frames) ||
    !Array.isArray(state.skipped) ||
    !Number.isInteger(state.valSize) ||
    !Number.isInteger(state.seed) ||
    typeof state.perplexity !== 'number' ||
    (state.validationFingerprint !== undefined && typeof state.validationFingerprint !== 'string') ||
    (state.model !== undefined && typeof state.model !== 'string')
  ) {
    throw new UserError(
      `${path} is not a watcher state file of format ${STATE_FORMAT}; move it away and the watcher starts the chain ` +
        `over`,
    );
  }
  return state as RunState;
}

export async function writeState(path: string, state: RunState): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(state, null, 1)}\n`);
}

/**
 * The record of a chain being opened: read and checked against these settings and points, or a
 * new one. A record from before fingerprints takes these points' fingerprint from now on.
 */
export async function openRecord(
  path: string,
  settings: ChainSettings,
  points: { images: Uint8Array | null; labels: Uint8Array; identity?: Uint8Array },
): Promise<RunState> {
  const fingerprint = validationFingerprint(points);
  const saved = await readState(path);
  if (saved === null) return emptyState(settings, fingerprint);
  checkSettings(saved, settings, path);
  checkValidationFingerprint(saved, fingerprint, path);
  if (migrateState(saved, fingerprint)) await writeState(path, saved);
  return saved;
}

/**
 * Brings a state file written by an earlier version up to what this one writes (still format
 * 1: every change so far only added fields); the one place for such fix-ups. Returns
 * whether anything changed.
 *   - no `validationFingerprint` (before it was recorded): the points the chain is opened with
 *     are taken to be its points from now on;
 *   - no `model` (before it was recorded): the next frame sets it.
 */
function migrateState(state: RunState, fingerprint: string): boolean {
  if (state.validationFingerprint !== undefined) return false;
  state.validationFingerprint = fingerprint;
  return true;
}

/**
 * Throws a one-line error when a restarted watcher was given other settings than the chain it
 * would continue: mixing them would make the animation meaningless.
 */
export function checkSettings(state: RunState, wanted: ChainSettings, statePath: string): void {
  const differences: string[] = [];
  if (state.valSize !== wanted.valSize) differences.push(`--val-size ${state.valSize} (now ${wanted.valSize})`);
  if (state.seed !== wanted.seed) differences.push(`--seed ${state.seed} (now ${wanted.seed})`);
  if (state.perplexity !== wanted.perplexity)
    differences.push(`--perplexity ${state.perplexity} (now ${wanted.perplexity})`);
  if (differences.length > 0) {
    throw new UserError(
      `${statePath} continues a chain made with ${differences.join(', ')}; use the same options, or move the ` +
        `embeddings folder away to start over`,
    );
  }
}

/**
 * Throws a one-line error when the validation images differ from those the chain was drawn from
 * (another `--data` of the same size): the frames, `metadata.tsv` and `sprite.png` would no longer
 * describe the same points. A state file without a fingerprint is accepted.
 */
export function checkValidationFingerprint(state: RunState, fingerprint: string, statePath: string): void {
  const recorded = state.validationFingerprint;
  if (recorded === undefined || recorded === fingerprint) return;
  throw new UserError(
    `${statePath} continues a chain drawn from other test images ` +
      `(fingerprint ${shortHash(recorded)}, now ${shortHash(fingerprint)}): ` +
      '--data (or CIFAR10_PATH) points to other data than when the chain started; use that data again, ' +
      'or move the embeddings folder away to start over',
  );
}

function shortHash(fingerprint: string): string {
  return fingerprint.replace(/^sha256:/, '').slice(0, 12);
}

/** A 2-D frame as TSV: one `x\ty` row per point, exact (the projector reads the same format). */
export function frameToTsv(points: Float64Array): string {
  return formatNumberTable(points, 2);
}

export async function readFrameTsv(path: string, expectedPoints: number): Promise<Float64Array> {
  const startOver = 'move the embeddings folder away to start over';
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UserError(
      `${describeFsError(error, 'read the previous frame', path)} (the state file names it; ${startOver})`,
    );
  }
  const frame = parseNumberTable(text, path, { advice: startOver });
  if (frame.rows !== expectedPoints) {
    throw new UserError(`${path} has ${frame.rows} rows, the chain has ${expectedPoints} points; ${startOver}`);
  }
  if (frame.cols !== 2) throw new UserError(`${path} has ${frame.cols} columns, not two (x and y); ${startOver}`);
  return frame.data;
}
