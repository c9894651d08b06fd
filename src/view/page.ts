/**
 * Writes a run's timelapse page: `embeddings/timelapse.html` (the player and the points, written
 * when the chain of frames starts or the player changes) and the frames beside it in
 * `embeddings/page/` (see `chunks.ts`), appended: each update writes only the frames the page
 * does not have yet, as a new chunk file, then the small index. Old frames are never re-encoded.
 *
 * The watcher holds one `TimelapsePage` per run and calls `update` with its frame records; a
 * restarted watcher's page reads back which steps the chunks hold and appends the rest, reading
 * their positions from `frames/step-N.tsv`. Every file is replaced atomically, and a chunk is
 * written before the index that names it, so a browser or a killed watcher only sees whole data.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError, describeFsError } from '../errors.ts';
import { PAGE_FILE, SPRITE_TILE } from '../layout.ts';
import { cssColor, type Rgb } from '../render/palette.ts';
import { spriteGrid } from '../tensorboard/projector.ts';
import { writeFileAtomic } from '../util/atomic.ts';
import { parseNumberTable } from '../util/tsv.ts';
import {
  CHUNK_DIR,
  HEADER_FILE,
  INDEX_FILE,
  chunkFileName,
  chunkScript,
  headerScript,
  indexScript,
  readWrittenChunks,
  removeChunkFiles,
  type WrittenChunk,
} from './chunks.ts';
import {
  encodeChunk,
  encodeHeader,
  type MetadataColumn,
  type PageHeader,
  type PageMeasure,
  type TimelapseFrame,
} from './encode.ts';
import { renderTimelapseHtml } from './template.ts';

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

/** A frame's record in the watcher's state: its step and its measures (read by key). */
export type FrameMeasuresRecord = { step: number };

/** The frame just made: saves reading it back. */
export interface LatestFrame {
  step: number;
  positions: ArrayLike<number>;
  /** The predicted class of each point at this step (argmax of the logits), when known. */
  predictions?: Uint8Array | null;
}

export interface TimelapsePageOptions {
  run: string;
  /** `<logdir>/<run>/embeddings`: the page goes there. */
  embeddingsDir: string;
  points: TimelapsePoints;
  /** Where a step's aligned frame TSV is. */
  frameFile: (step: number) => string;
  /** The projector sprite, relative to the page (default `projector/sprite.png`). */
  spriteFromPage?: string;
  /** The measures the page charts (default: accuracy, neighbourhood hit, 10-NN preservation, displacement). */
  measures?: PageMeasure[];
  /** Per-point columns the page can colour by and search in (one value per point). */
  metadata?: MetadataColumn[];
}

interface Written {
  chain: string;
  chunks: WrittenChunk[];
  /** Whether this process has checked that the page on disk is this chain's and this player's. */
  pageChecked: boolean;
}

/** The header block of a page's HTML (its points, sprite, measures); null when it has none. */
export function pageHeaderOf(html: string): Partial<PageHeader> | null {
  const match = /<script id="timelapse-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
  if (!match) return null;
  try {
    return JSON.parse(match[1]!) as Partial<PageHeader>;
  } catch {
    return null;
  }
}

export class TimelapsePage {
  readonly path: string;
  readonly chunkDir: string;
  private readonly options: TimelapsePageOptions;
  /** Frames handed over by `update` and not written yet. */
  private readonly pending = new Map<number, LatestFrame>();
  private written: Written | null = null;

  constructor(options: TimelapsePageOptions) {
    this.options = options;
    this.path = join(options.embeddingsDir, PAGE_FILE);
    this.chunkDir = join(options.embeddingsDir, CHUNK_DIR);
  }

  /** Brings the page up to `frames`: appends the frames it lacks; `latest` is the frame just made. */
  async update(frames: readonly FrameMeasuresRecord[], latest?: LatestFrame): Promise<void> {
    if (latest) this.pending.set(latest.step, latest);
    const wanted = new Set(frames.map((f) => f.step));
    let written = (this.written ??= await this.restore());
    // Frames the records no longer have (a chain started over): the page starts over too.
    if (written.chunks.some((chunk) => chunk.steps.some((step) => !wanted.has(step)))) {
      written = this.written = { chain: newChain(), chunks: [], pageChecked: false };
      await removeChunkFiles(this.chunkDir);
    }
    const have = new Set(written.chunks.flatMap((chunk) => chunk.steps));
    const missing = frames.filter((f) => !have.has(f.step));
    if (missing.length > 0) await this.append(written, missing);
    // Written on every update, even with nothing appended: its time says the page has seen the
    // record as it is now (the watcher's sink compares it with state.json's).
    if (frames.length > 0) {
      await mkdir(this.chunkDir, { recursive: true });
      const index = { chain: written.chain, chunks: written.chunks.length };
      await writeFileAtomic(join(this.chunkDir, INDEX_FILE), indexScript(index));
    }
    if (!written.pageChecked) {
      await this.writePageIfChanged(written.chain);
      written.pageChecked = true;
    }
  }

  private header(chain: string): PageHeader {
    const { points, run } = this.options;
    const tile = points.tile ?? SPRITE_TILE;
    const grid = spriteGrid(points.count, tile, tile);
    return encodeHeader({
      run,
      chain,
      classNames: points.classNames,
      labels: points.labels,
      testIndices: points.testIndices,
      sprite:
        points.images === null
          ? null
          : { src: this.options.spriteFromPage ?? 'projector/sprite.png', tile, side: grid.side },
      colors: points.palette?.map(cssColor),
      noun: points.noun,
      indexName: points.indexName,
      measures: this.options.measures,
      metadata: this.options.metadata,
      chunkDir: CHUNK_DIR,
    });
  }

  /** The chain the files on disk continue, when the page is of these points; else a new one. */
  private async restore(): Promise<Written> {
    const html = await readFile(this.path, 'utf8').catch(() => null);
    const old = html === null ? null : pageHeaderOf(html);
    const fresh = this.header('');
    if (old && typeof old.chain === 'string' && old.labels === fresh.labels && old.testIndices === fresh.testIndices) {
      const chunks = await readWrittenChunks(this.chunkDir, old.chain);
      if (chunks) return { chain: old.chain, chunks, pageChecked: false };
    }
    await removeChunkFiles(this.chunkDir);
    return { chain: newChain(), chunks: [], pageChecked: false };
  }

  private async append(written: Written, records: readonly FrameMeasuresRecord[]): Promise<void> {
    const frames: TimelapseFrame[] = [];
    for (const record of records) {
      const latest = this.pending.get(record.step);
      frames.push({
        ...(record as Omit<TimelapseFrame, 'positions'>),
        positions: latest?.positions ?? (await this.readPositions(record.step)),
        predictions: latest?.predictions ?? null,
      });
    }
    const header = this.header(written.chain);
    const chunk = encodeChunk(frames, {
      count: header.count,
      chain: written.chain,
      index: written.chunks.length,
      measures: header.measures,
      previous: written.chunks.at(-1)?.bounds ?? null,
    });
    await mkdir(this.chunkDir, { recursive: true });
    await writeFileAtomic(join(this.chunkDir, chunkFileName(chunk.index)), chunkScript(chunk));
    written.chunks.push({ steps: chunk.steps, bounds: chunk.bounds });
    for (const step of chunk.steps) this.pending.delete(step);
  }

  /** Rewrites the HTML (and header.js) only when they differ: an open page polls the HTML. */
  private async writePageIfChanged(chain: string): Promise<void> {
    const header = this.header(chain);
    await mkdir(this.chunkDir, { recursive: true });
    await writeIfChanged(join(this.chunkDir, HEADER_FILE), headerScript(header));
    await writeIfChanged(this.path, renderTimelapseHtml(header));
  }

  private async readPositions(step: number): Promise<Float64Array> {
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
    return Float64Array.from(table.data);
  }
}

async function writeIfChanged(path: string, text: string): Promise<void> {
  const old = await readFile(path, 'utf8').catch(() => null);
  if (old !== text) await writeFileAtomic(path, text);
}

function newChain(): string {
  return randomBytes(6).toString('hex');
}
