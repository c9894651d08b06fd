/**
 * SummaryWriter: the API tfjs-node users know (`summaryFileWriter(logdir).scalar(tag, value,
 * step)`), writing TensorBoard's own summary forms to an event sink: an EventFileWriter (a local
 * run folder, the default) or any other `EventSink` (e.g. event files uploaded to object storage,
 * ./uploaded-events.ts).
 *
 * Documented behaviours for odd input:
 * - NaN / ±Infinity scalars are written as is (float32 holds them and TensorBoard loads them,
 *   though its chart cannot place them on the axis); one warning per tag, as it usually means
 *   training diverged.
 * - Histogram values that are NaN / ±Infinity are left out of the buckets; one warning per tag.
 * - A step that does not increase for a tag (repeats or goes backwards) is still written (the
 *   chart then zigzags); one warning per tag, since it usually means a restarted process that
 *   did not continue from its last step (see `lastStepsByTag`).
 * - Bytes that are not a PNG, or RGBA of the wrong size: UserError.
 */
import { resolve } from 'node:path';
import { EventFileWriter, type EventFileWriterOptions } from './event-file-writer.ts';
import { bucketize, DEFAULT_BUCKET_COUNT } from './histogram.ts';
import type { Event, SummaryValue } from './protos.ts';
import {
  histogramValue,
  imageValue,
  scalarValue,
  textValue,
  type DisplayOptions,
  type RgbaImage,
} from './summaries.ts';

export type SummaryWriterOptions = EventFileWriterOptions;

/** Where a SummaryWriter's events go. */
export interface EventSink {
  /** The run it writes to, for messages (a folder, or a location in a bucket). */
  readonly location: string;
  readonly closed: boolean;
  writeEvent(event: Event): void;
  flush(): void;
  /** Writes what is pending; a second close is harmless. */
  close(): void | Promise<void>;
}

export class SummaryWriter<Sink extends EventSink = EventFileWriter> {
  readonly events: Sink;
  private readonly lastStep = new Map<string, number>();
  private readonly warned = new Set<string>();

  /** A new event file in the run folder `logdir`, or the given sink. */
  constructor(logdir: string, options?: SummaryWriterOptions);
  constructor(events: Sink);
  constructor(target: string | Sink, options: SummaryWriterOptions = {}) {
    this.events = typeof target === 'string' ? (new EventFileWriter(target, options) as EventSink as Sink) : target;
  }

  scalar(tag: string, value: number, step: number, display?: DisplayOptions): void {
    if (!Number.isFinite(value)) {
      this.warnOnce(
        `nonfinite:${tag}`,
        `scalar '${tag}' is ${value} at step ${step}; written as is (TensorBoard loads it but cannot plot it)`,
      );
    }
    this.writeValue(scalarValue(tag, value, display), step);
  }

  /** Buckets `values` (default 30 equal-width buckets between min and max) and writes them. */
  histogram(
    tag: string,
    values: ArrayLike<number>,
    step: number,
    buckets = DEFAULT_BUCKET_COUNT,
    display?: DisplayOptions,
  ): void {
    const bucketed = bucketize(values, buckets);
    if (bucketed.dropped > 0) {
      this.warnOnce(
        `nonfinite:${tag}`,
        `histogram '${tag}' at step ${step}: left out ${bucketed.dropped} of ${values.length} values that are NaN ` +
          `or ±Infinity`,
      );
    }
    this.writeValue(histogramValue(tag, bucketed.buckets, display), step);
  }

  /** A PNG (bytes) or RGBA pixels, shown in the Images dashboard. */
  image(tag: string, image: Uint8Array | RgbaImage, step: number, options?: DisplayOptions): void {
    this.writeValue(imageValue(tag, image, options), step);
  }

  /** Markdown shown in the Text dashboard. */
  text(tag: string, markdown: string, step: number, display?: DisplayOptions): void {
    this.writeValue(textValue(tag, markdown, display), step);
  }

  /** Writes one ready-made Summary.Value (any plugin) as its own event. */
  writeValue(value: SummaryValue, step: number): void {
    if (!Number.isSafeInteger(step) || step < 0) {
      throw new RangeError(`step must be a non-negative integer, got ${step} for '${value.tag}'`);
    }
    const tag = value.tag ?? '';
    const previous = this.lastStep.get(tag);
    if (previous !== undefined && step <= previous) {
      this.warnOnce(
        `step:${tag}`,
        `tag '${tag}' in ${this.events.location}: step ${step} comes after step ${previous}; written anyway, ` +
          'TensorBoard will draw it out of order (a restarted run should continue from its last step)',
      );
    }
    this.lastStep.set(tag, previous === undefined ? step : Math.max(previous, step));
    this.events.writeEvent({ step, summary: { value: [value] } });
  }

  /** Passes buffered events on (a local file: to the OS; a no-op when flushing each event, the default). */
  flush(): void {
    this.events.flush();
  }

  /** Writes what is pending, closes the sink, and forgets this writer in the `summaryFileWriter` cache. */
  async close(): Promise<void> {
    for (const [key, writer] of cache) if (writer === (this as object)) cache.delete(key);
    await this.events.close();
  }

  /** `await using writer = summaryFileWriter(dir)` closes it on every way out; a second close is harmless. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.closed) await this.close();
  }

  get closed(): boolean {
    return this.events.closed;
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    console.warn(`embedding-timelapse: warning: ${message}`);
  }
}

const cache = new Map<string, SummaryWriter>();

/** One writer per directory (and file name suffix, which names a separate file on purpose). */
function cacheKey(logdir: string, suffix = ''): string {
  return `${resolve(logdir)}\0${suffix.replace(/^\./, '')}`;
}

/**
 * The SummaryWriter for `logdir`, created on first use and shared by every caller in this
 * process until it is closed (a second writer would start a second file in the same run).
 * Writers with different `filenameSuffix` are distinct; other options only apply when the
 * writer is created.
 */
export function summaryFileWriter(logdir: string, options: SummaryWriterOptions = {}): SummaryWriter {
  const key = cacheKey(logdir, options.filenameSuffix);
  let writer = cache.get(key);
  if (writer === undefined || writer.closed) {
    writer = new SummaryWriter(logdir, options);
    cache.set(key, writer);
  }
  return writer;
}
