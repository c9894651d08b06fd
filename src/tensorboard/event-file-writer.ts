/**
 * One event file: names it the way TensorBoard expects, writes the `brain.Event:2` record first,
 * then one record per Event. Knows nothing about summaries (see summary-writer.ts).
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { makeDirectorySync } from '../util/directory.ts';
import { encodeEvent, type Event } from './protos.ts';
import { RecordWriter } from './record-writer.ts';

export const FILE_VERSION = 'brain.Event:2';
const SOURCE_WRITER = 'embedding-timelapse';

export interface EventFileWriterOptions {
  /** Appended to the file name (a leading '.' is added when missing), e.g. 'v2'. */
  filenameSuffix?: string;
  /** Write every event to the OS at once (default true: TensorBoard sees it on its next poll). */
  flushEachEvent?: boolean;
  /** When buffering: longest time an event waits in memory (default 2000 ms). */
  flushMillis?: number;
  /** Seconds since the epoch; replaced in tests to get fixed wall times. */
  now?: () => number;
  /** `source_metadata.writer` of the first record. */
  sourceWriter?: string;
}

const MAX_BUFFERED_BYTES = 1 << 20;

/** Open writers, flushed synchronously if the process exits without closing them. */
const openWriters = new Set<EventFileWriter>();
let exitHookInstalled = false;
/** Per-process counter in the file name: two files created in the same second stay distinct. */
let filesCreated = 0;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const writer of openWriters) {
      try {
        writer.flush();
      } catch {
        // Nothing useful can be done while exiting; the records written so far are intact.
      }
    }
  });
}

/**
 * `events.out.tfevents.<10-digit seconds>.<host>.<pid>.<n>[.<suffix>]`, like TensorBoard's own
 * writer: TensorBoard only needs "tfevents" in the name and reads a run's files in name order,
 * which the zero-padded seconds make chronological.
 */
export function eventFileName(seconds: number, suffix = '', counter = 0): string {
  const stamp = String(Math.floor(seconds)).padStart(10, '0');
  const tail = suffix === '' || suffix.startsWith('.') ? suffix : `.${suffix}`;
  return `events.out.tfevents.${stamp}.${hostname()}.${process.pid}.${counter}${tail}`;
}

export class EventFileWriter {
  readonly logdir: string;
  readonly path: string;
  private readonly records: RecordWriter;
  private readonly now: () => number;
  private readonly buffered: boolean;
  private readonly flushMillis: number;
  private flushTimer: NodeJS.Timeout | undefined;

  /** Creates `logdir` (and parents) and a new event file in it. */
  constructor(logdir: string, options: EventFileWriterOptions = {}) {
    this.logdir = logdir;
    this.now = options.now ?? (() => Date.now() / 1000);
    this.buffered = options.flushEachEvent === false;
    this.flushMillis = options.flushMillis ?? 2000;
    makeDirectorySync(logdir, 'create log directory');
    const seconds = this.now();
    let records: RecordWriter | undefined;
    for (let attempt = 0; records === undefined; attempt++) {
      const path = join(logdir, eventFileName(seconds, options.filenameSuffix, filesCreated++));
      try {
        records = new RecordWriter(path, { flushEachRecord: options.flushEachEvent ?? true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 1000) throw error;
      }
    }
    this.records = records;
    this.path = records.path;
    openWriters.add(this);
    installExitHook();
    this.writeEvent({
      wall_time: seconds,
      file_version: FILE_VERSION,
      source_metadata: { writer: options.sourceWriter ?? SOURCE_WRITER },
    });
    // Even when buffering, the header goes out now so TensorBoard sees the run at once.
    this.records.flush();
  }

  /** Appends one event; `wall_time` defaults to now. */
  writeEvent(event: Event): void {
    if (this.records.closed) throw new Error(`event file ${this.path} is closed`);
    const withTime = event.wall_time === undefined ? { ...event, wall_time: this.now() } : event;
    this.records.write(encodeEvent(withTime));
    if (this.buffered) this.scheduleFlush();
  }

  /** Buffered events reach the file within `flushMillis`, or at once past 1 MiB. */
  private scheduleFlush(): void {
    if (this.records.pendingBytes > MAX_BUFFERED_BYTES) {
      this.flush();
    } else if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        try {
          if (!this.closed) this.flush();
        } catch (error) {
          // A timer has no caller to throw to: report it (those records are lost; later ones are
          // written again once the cause, e.g. a full disk, goes away).
          console.warn(`embedding-timelapse: warning: ${(error as Error).message}`);
        }
      }, this.flushMillis);
      this.flushTimer.unref(); // a pending flush must not keep the process alive
    }
  }

  /** Bytes waiting in memory (only when not flushing each event). */
  get pendingBytes(): number {
    return this.records.pendingBytes;
  }

  flush(): void {
    this.records.flush();
  }

  close(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    openWriters.delete(this);
    this.records.close();
  }

  get closed(): boolean {
    return this.records.closed;
  }

  /** The run folder (SummaryWriter's messages name it). */
  get location(): string {
    return this.logdir;
  }
}
