/**
 * A SummaryWriter's events on object storage (the trainer's, `new SummaryWriter(uploadedEvents)`),
 * uploaded through a RollingEventWriter (a new whole event file per flush).
 *
 * A flush costs one object, and TensorBoard lists a run's objects on every reload, so events are
 * not uploaded one by one: `flush()` uploads at most every `flushSeconds` (the first point of a
 * run at once), and `flushNow()` uploads whatever is queued (the trainer calls it before each
 * checkpoint's manifest, so a checkpoint's points are in the bucket before the checkpoint is).
 */
import type { Storage } from '../storage/storage.ts';
import type { Event } from './protos.ts';
import { RollingEventWriter, type RollingEventWriterOptions } from './rolling-event-writer.ts';
import type { EventSink } from './summary-writer.ts';

export interface UploadedEventsOptions extends RollingEventWriterOptions {
  /** Shortest time between two uploads asked for by `flush()` (default 30 s). */
  flushSeconds?: number;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export class UploadedEvents implements EventSink {
  readonly files: RollingEventWriter;
  readonly location: string;
  private isClosed = false;
  private readonly flushMs: number;
  private lastFlush = -Infinity;
  /** The first upload that failed: later uploads are not tried. */
  private failure: Error | undefined;
  /** Whether `failure` was thrown to a caller already (then `close` does not throw it again). */
  private reported = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(storage: Storage, run: string, options: UploadedEventsOptions = {}) {
    this.files = new RollingEventWriter(storage, run, options);
    this.location = storage.location(run || '.');
    this.flushMs = (options.flushSeconds ?? 30) * 1000;
  }

  /** Whether `close()` was called (the SummaryWriter's `closed`). */
  get closed(): boolean {
    return this.isClosed;
  }

  writeEvent(event: Event): void {
    this.files.writeEvent(event);
    this.scheduleFlush();
  }

  /**
   * Uploads what is queued once `flushSeconds` have passed since the last upload (in the
   * background; a failure is thrown by the next `flushNow` or `close`).
   */
  flush(): void {
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.timer !== undefined || this.failure !== undefined) return;
    const wait = Math.max(0, this.lastFlush + this.flushMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.upload().catch(() => undefined);
    }, wait);
    // A pending upload must not keep a finished process alive: close() uploads the rest.
    this.timer.unref();
  }

  /** Uploads everything queued now as one event file; throws the first upload failure. */
  async flushNow(): Promise<void> {
    if (this.failure !== undefined) {
      this.reported = true;
      throw this.failure;
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    try {
      await this.upload();
    } catch (error) {
      this.reported = true;
      throw error;
    }
  }

  private async upload(): Promise<void> {
    this.lastFlush = Date.now();
    try {
      await this.files.flush();
    } catch (error) {
      this.failure ??= asError(error);
      throw error;
    }
  }

  /**
   * Uploads nothing more, not even on close: the run is ending on an error (a checkpoint that
   * could not be uploaded), and a store that refused or stayed away would only delay the exit.
   */
  abandon(reason: Error): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.failure ??= reason;
    this.reported = true;
  }

  /**
   * Uploads the rest. A failed upload already thrown to a caller is not thrown again (nor tried
   * again), so an error path is not covered by a second error.
   */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.isClosed = true;
    if (this.failure === undefined) {
      try {
        await this.files.close();
      } catch (error) {
        this.failure = asError(error);
      }
    }
    if (this.failure !== undefined && !this.reported) {
      this.reported = true;
      throw this.failure;
    }
  }
}
