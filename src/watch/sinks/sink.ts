/**
 * A sink writes each frame of a chain to one output (frame files, projector, GIF, TensorBoard
 * events, the page). Opened when the chain is opened, it first brings its output up to the
 * chain's record (what a killed watcher may have left undone), then writes frames, then closes.
 * Every write is idempotent: a frame redone after a crash overwrites or leaves out what is there.
 */
import type { RgbaImage } from '../../render/index.ts';
import type { ChainLayout } from '../../layout.ts';
import type { FrameRecord } from '../record.ts';
import type { PointSet } from '../source.ts';
import type { RunState } from '../state.ts';

/** The points after which a test may kill the watcher: each sink's, and the commit ('state'). */
export type WritePoint = 'files' | 'projector' | 'gif' | 'events' | 'state' | 'page';

/** One frame, drawn and ready to be written. */
export interface DrawnFrame {
  step: number;
  /** What the record will keep of it (committed after every frame sink wrote it). */
  record: FrameRecord;
  /** Aligned 2-D positions, interleaved. */
  positions: Float64Array;
  /** Row-major `count × dim`. */
  embeddings: Float32Array;
  dim: number;
  /** The frame's picture, encoded and as pixels, and the in-between pictures leading to it. */
  png: Uint8Array;
  image: RgbaImage;
  tweens: RgbaImage[];
  /** Each point's predicted class, when the source had the model's logits. */
  predictions?: Uint8Array;
}

/** What a sink is opened with. */
export interface SinkContext {
  /** The chain's name in messages. */
  name: string;
  layout: ChainLayout;
  points: PointSet;
  /** The chain's record as committed (read only). */
  record: Readonly<RunState>;
  info: (line: string, fields?: Record<string, unknown>) => void;
}

export interface FrameSink {
  /** Writes one frame; `record` is the record as committed so far (with this frame once committed). */
  write(frame: DrawnFrame, record: Readonly<RunState>): Promise<void>;
  /** The record was committed without a new frame (a skip): sinks written after the commit follow it. */
  recordChanged?(record: Readonly<RunState>): Promise<void>;
  close(): Promise<void>;
}

export interface SinkSpec {
  /** The write point reported after this sink wrote a frame. */
  point: WritePoint;
  open(context: SinkContext): Promise<FrameSink>;
  /**
   * Whether the sink's output is behind the committed record (a watcher killed after the commit
   * but before this sink), checked without opening the chain; only sinks written after the commit
   * can be.
   */
  behind?(layout: ChainLayout, record: Readonly<RunState>): Promise<boolean>;
}
