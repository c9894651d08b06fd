/**
 * The watcher's TensorBoard points for one run, and the guard that keeps every tag's steps
 * strictly increasing across restarts.
 *
 * They go to an event file of their own in `<run>/embeddings/`, which TensorBoard shows as the
 * run `<run>/embeddings`. Not beside the trainer's: by default (`--reload_multifile=false`)
 * TensorBoard polls only the newest event file of a directory, so with two writers in one
 * directory the older writer's curves froze while both ran (measured with TensorBoard 2.21).
 * Runs drawn before that have the watcher's points in `<run>/events.out.tfevents.*.watcher`:
 * those stay (TensorBoard keeps showing them under `<run>`), a restarted watcher writes its new
 * points to `<run>/embeddings/`, and both count for the guard, so no step is written twice.
 *
 * On start the event files are read back (the reader stops cleanly at a record a killed process
 * left half-written); a point is written only when its step is above the last step of its tag
 * actually on disk. Together with the state file this makes "redo the frame after a crash"
 * safe: what reached the event file is not written again, what did not is written now.
 */
import { readFile } from 'node:fs/promises';
import {
  lastStepsByTag,
  listEventFiles,
  readEventFile,
  summaryFileWriter,
  type SummaryWriter,
} from '../../tensorboard/index.ts';
import { FRAME_TAGS, IMAGE_TAG, MEASURES, MEASURE_NAMES, type FrameRecord } from '../record.ts';
import type { SinkSpec } from './sink.ts';

const EVENT_FILE_SUFFIX = 'watcher';

export interface EventLog {
  /** Writes the frame's image and scalars, leaving out any tag already at or past `step`. */
  writeFrame(record: FrameRecord, png: Uint8Array): number;
  /** The last step on disk (or written by this process) for a tag, -1 when none. */
  lastStep(tag: string): number;
  close(): Promise<void>;
}

/** The watcher's event files of the layout before `<run>/embeddings/`: in the run directory itself. */
async function earlierWatcherFiles(runDir: string): Promise<string[]> {
  return (await listEventFiles(runDir)).filter((file) => file.endsWith(`.${EVENT_FILE_SUFFIX}`));
}

export class RunEventLog implements EventLog {
  private writer: SummaryWriter | null = null;

  private constructor(
    readonly eventsDir: string,
    private readonly last: Map<string, number>,
  ) {}

  /**
   * Reads back the last step of every tag in `eventsDir` (where the points go) and in the
   * watcher's earlier event files in `runDir`.
   */
  static async open(eventsDir: string, runDir: string): Promise<RunEventLog> {
    const steps = await lastStepsByTag(eventsDir);
    for (const file of await earlierWatcherFiles(runDir)) {
      for (const event of await readEventFile(file)) {
        for (const value of event.summary?.value ?? []) {
          const tag = value.tag ?? '';
          steps.set(tag, Math.max(steps.get(tag) ?? -1, event.step));
        }
      }
    }
    return new RunEventLog(eventsDir, steps);
  }

  lastStep(tag: string): number {
    return this.last.get(tag) ?? -1;
  }

  private ensureWriter(): SummaryWriter {
    // Created on first use: a watcher with nothing to write leaves no empty event file behind.
    this.writer ??= summaryFileWriter(this.eventsDir, { filenameSuffix: EVENT_FILE_SUFFIX });
    return this.writer;
  }

  writeFrame(record: FrameRecord, png: Uint8Array): number {
    let written = 0;
    const step = record.step;
    if (step > this.lastStep(IMAGE_TAG)) {
      this.ensureWriter().image(IMAGE_TAG, png, step);
      this.last.set(IMAGE_TAG, step);
      written++;
    }
    for (const name of MEASURE_NAMES) {
      const { tag } = MEASURES[name];
      if (step <= this.lastStep(tag)) continue;
      this.ensureWriter().scalar(tag, record[name], step);
      this.last.set(tag, step);
      written++;
    }
    this.writer?.flush();
    return written;
  }

  /**
   * Rewrites the points of frames the state file has but the event files lost (a watcher killed
   * before its events reached the disk), in step order, from the measures kept in the state and
   * the frame's PNG. Returns how many points were written.
   */
  async restore(frames: readonly FrameRecord[], imageFile: (step: number) => string): Promise<number> {
    let written = 0;
    for (const frame of frames) {
      const missing = FRAME_TAGS.some((tag) => frame.step > this.lastStep(tag));
      if (!missing) continue;
      const png = await readFile(imageFile(frame.step)).catch(() => null);
      if (png === null) {
        // Without the PNG only the scalars can come back; the image tag jumps over this step.
        this.last.set(IMAGE_TAG, Math.max(this.lastStep(IMAGE_TAG), frame.step));
      }
      written += this.writeFrame(frame, png ?? new Uint8Array());
    }
    return written;
  }

  async close(): Promise<void> {
    if (this.writer) await this.writer.close();
    this.writer = null;
  }

  /** `await using log = await RunEventLog.open(dir)` closes it on every way out. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** The watcher's TensorBoard points: restored from the record on open, then one image and scalars per frame. */
export const eventsSink: SinkSpec = {
  point: 'events',
  async open({ name, layout, record, info }) {
    const log = await RunEventLog.open(layout.events, layout.runDir);
    try {
      const restored = await log.restore(record.frames, layout.imageFile);
      if (restored > 0)
        info(`${name}: wrote ${restored} TensorBoard points the event files had lost, from ${layout.state}`);
    } catch (error) {
      await log.close();
      throw error;
    }
    return {
      async write(frame) {
        log.writeFrame(frame.record, frame.png);
      },
      close: () => log.close(),
    };
  },
};
