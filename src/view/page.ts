/**
 * Writes a run's `embeddings/timelapse.html` after every frame. The watcher holds one
 * `TimelapsePage` per run and calls `update` with its frame records; frames it has not seen in
 * this process (a restarted watcher) are read back from `frames/step-N.tsv`, then kept in memory
 * so each later update only encodes.
 *
 * The page is replaced atomically, so a browser or a killed watcher only ever sees a whole page.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError, describeFsError } from '../errors.ts';
import { cssColor, type Rgb } from '../render/palette.ts';
import { spriteGrid } from '../tensorboard/projector.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { parseNumberTable } from '../util/tsv.ts';
import { encodeTimelapse, type TimelapseFrame } from './encode.ts';
import { renderTimelapseHtml } from './template.ts';

export const PAGE_FILE = 'timelapse.html';
/** The projector sprite, relative to the page (both live in `embeddings/`). */
export const SPRITE_FROM_PAGE = 'projector/sprite.png';
const SPRITE_TILE = 32;

/** The fixed points of the run (the watcher's validation set has these fields). */
export interface TimelapsePoints {
  labels: Uint8Array;
  testIndices: ArrayLike<number>;
  classNames: string[];
  count: number;
  /** Thumbnails (the sprite beside the page has them); null: the page shows none. */
  images?: Uint8Array | null;
  /** Side of a sprite tile (default 32). */
  tile?: number;
  /** Each label's colour (default: the ten CIFAR-10 class colours). */
  palette?: readonly Rgb[];
  /** What the points are (default 'test images'), and what a point's index counts (default 'test image'). */
  noun?: string;
  indexName?: string;
}

/** A frame's record in the watcher's state. */
export type FrameMeasuresRecord = Omit<TimelapseFrame, 'positions'>;

export interface TimelapsePageOptions {
  run: string;
  /** `<logdir>/<run>/embeddings`: the page goes there. */
  embeddingsDir: string;
  points: TimelapsePoints;
  /** Where a step's aligned frame TSV is. */
  frameFile: (step: number) => string;
}

export class TimelapsePage {
  readonly path: string;
  private readonly options: TimelapsePageOptions;
  private readonly positions = new Map<number, Float32Array>();

  constructor(options: TimelapsePageOptions) {
    this.options = options;
    this.path = join(options.embeddingsDir, PAGE_FILE);
  }

  /** Rewrites the page with `frames`; `latest` is the frame just made (saves reading it back). */
  async update(
    frames: readonly FrameMeasuresRecord[],
    latest?: { step: number; positions: ArrayLike<number> },
  ): Promise<void> {
    if (latest) this.positions.set(latest.step, Float32Array.from(latest.positions));
    const complete: TimelapseFrame[] = [];
    for (const record of frames) {
      complete.push({
        step: record.step,
        accuracy: record.accuracy,
        neighborhoodHit: record.neighborhoodHit,
        knnPreservation: record.knnPreservation,
        displacement: record.displacement,
        positions: await this.positionsOf(record.step),
      });
    }
    const { points, run } = this.options;
    const tile = points.tile ?? SPRITE_TILE;
    const grid = spriteGrid(points.count, tile, tile);
    const data = encodeTimelapse({
      run,
      classNames: points.classNames,
      labels: points.labels,
      testIndices: points.testIndices,
      frames: complete,
      sprite: points.images === null ? null : { src: SPRITE_FROM_PAGE, tile, side: grid.side },
      colors: points.palette?.map(cssColor),
      noun: points.noun,
      indexName: points.indexName,
    });
    await writeFileAtomic(this.path, renderTimelapseHtml(data));
  }

  private async positionsOf(step: number): Promise<Float32Array> {
    const known = this.positions.get(step);
    if (known) return known;
    const path = this.options.frameFile(step);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new UserError(
        `${describeFsError(error, 'read a frame for the timelapse page', path)} (the state file names it)`,
      );
    }
    const table = parseNumberTable(text, path, { advice: 'move the embeddings folder away to start the chain over' });
    if (table.rows !== this.options.points.count || table.cols !== 2) {
      throw new UserError(
        `${path} is ${table.rows} × ${table.cols}, expected ${this.options.points.count} × 2; ` +
          'move the embeddings folder away to start over',
      );
    }
    const positions = Float32Array.from(table.data);
    this.positions.set(step, positions);
    return positions;
  }
}
