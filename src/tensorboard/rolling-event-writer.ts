/**
 * Event files where nothing can be appended (object storage): each flush writes the events
 * queued since the last one as a new, whole event file, and never touches it again.
 *
 * TensorBoard keeps a byte offset into the event file it reads and moves on to the next file
 * in name order once a newer one exists; it never rereads a file from the start. So an event
 * file must only grow, and a run's files must sort in the order they were written. Rewriting
 * one growing object also satisfies TensorBoard, but uploads the whole history on every flush;
 * rolling uploads each event once (measured in docs/object-storage.md).
 *
 * Each file starts with its own `brain.Event:2` record, so any one of them is a valid event file.
 */
import { hostname } from 'node:os';
import type { Storage } from '../storage/storage.ts';
import { joinKey } from '../storage/storage.ts';
import { FILE_VERSION } from './event-file-writer.ts';
import { encodeEvent, type Event } from './protos.ts';
import { frameRecord } from './record-writer.ts';

export interface RollingEventWriterOptions {
  /** Appended to each file name (a leading '.' is added when missing). */
  filenameSuffix?: string;
  /** Seconds since the epoch; replaced in tests. */
  now?: () => number;
  sourceWriter?: string;
}

/** Files written by this process, so two writers here never pick one name. */
let filesWritten = 0;

/**
 * `events.out.tfevents.<10-digit seconds>.<host>.<pid>.<6-digit n>[.<suffix>]`: the seconds of
 * the flush and a zero-padded counter, so name order is write order (TensorBoard sorts names).
 */
export function rollingEventFileName(seconds: number, counter: number, suffix = ''): string {
  const stamp = String(Math.floor(seconds)).padStart(10, '0');
  const tail = suffix === '' || suffix.startsWith('.') ? suffix : `.${suffix}`;
  return `events.out.tfevents.${stamp}.${hostname()}.${process.pid}.${String(counter).padStart(6, '0')}${tail}`;
}

export class RollingEventWriter {
  private queue: Buffer[] = [];
  private readonly now: () => number;
  private readonly header: Event;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Names carry the latest flush time seen, so a clock set back cannot sort a new file first. */
  private lastSeconds = 0;
  /** Keys of the event files written so far, and what they cost. */
  readonly written: string[] = [];
  bytesUploaded = 0;

  /** `run` is the run's key prefix in `storage` ('' for the root). */
  constructor(
    readonly storage: Storage,
    readonly run: string,
    private readonly options: RollingEventWriterOptions = {},
  ) {
    this.now = options.now ?? (() => Date.now() / 1000);
    this.header = {
      file_version: FILE_VERSION,
      source_metadata: { writer: options.sourceWriter ?? 'embedding-timelapse' },
    };
  }

  /** Queues one event (`wall_time` defaults to now); it is uploaded by the next `flush`. */
  writeEvent(event: Event): void {
    if (this.closed) throw new Error(`event writer for ${this.storage.location(this.run || '.')} is closed`);
    const withTime = event.wall_time === undefined ? { ...event, wall_time: this.now() } : event;
    this.queue.push(frameRecord(encodeEvent(withTime)));
  }

  get pendingEvents(): number {
    return this.queue.length;
  }

  /** Uploads the queued events as one new event file; nothing when none are queued. Flushes run one at a time. */
  flush(): Promise<void> {
    const records = this.queue;
    this.queue = [];
    const next = this.flushing.then(() => this.upload(records));
    // A failed flush is reported to its caller; the next flush still runs.
    this.flushing = next.catch(() => undefined);
    return next;
  }

  private async upload(records: Buffer[]): Promise<void> {
    if (records.length === 0) return;
    const seconds = this.now();
    this.lastSeconds = Math.max(this.lastSeconds, Math.floor(seconds));
    const header = frameRecord(encodeEvent({ ...this.header, wall_time: seconds }));
    const data = Buffer.concat([header, ...records]);
    for (let attempt = 0; ; attempt++) {
      const key = joinKey(
        this.run,
        rollingEventFileName(this.lastSeconds, filesWritten++, this.options.filenameSuffix),
      );
      // Never replace an event file: TensorBoard may be part way through it. A create retried
      // after a lost answer reports "exists" for our own upload: uploading again would double it.
      const created =
        (await this.storage.createIfAbsent(key, data)) ||
        (await this.storage.read(key).catch(() => undefined))?.equals(data) === true;
      if (created) {
        this.written.push(key);
        this.bytesUploaded += data.length;
        return;
      }
      if (attempt >= 100)
        throw new Error(`cannot find a free event file name under ${this.storage.location(this.run)}`);
    }
  }

  /** Uploads what is queued; later writes are refused. A second close is harmless. */
  async close(): Promise<void> {
    if (this.closed) return this.flushing;
    this.closed = true;
    await this.flush();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
