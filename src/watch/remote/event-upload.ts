/**
 * The watcher's event files, on object storage. Locally an event file only grows; a growing
 * object cannot be appended to, and TensorBoard keeps its byte offset into a file it has read.
 * So what was appended since the last upload goes up as a new, whole event file of its own, named
 * like `RollingEventWriter`'s (its own header record first, names sorting in write order) and
 * created only when absent: TensorBoard reading `s3://` sees every point exactly once.
 */
import { encodeEvent, frameRecord, FILE_VERSION, scanRecords } from '../../tensorboard/index.ts';
import { rollingEventFileName } from '../../tensorboard/rolling-event-writer.ts';

/** Files named by this process: a counter in every name, so two chunks never share one. */
let chunksNamed = 0;

/** The `<seconds>` part of a rolled (or any TensorBoard) event file name, or 0. */
export function eventFileSeconds(name: string): number {
  const match = /tfevents\.(\d+)\./.exec(name);
  return match ? Number(match[1]) : 0;
}

export class EventChunks {
  /** Bytes of each local event file already uploaded (up to the end of its last whole record). */
  private readonly uploaded = new Map<string, number>();
  /** Names' seconds never go backwards, and start after every file already in the bucket. */
  private lastSeconds: number;

  constructor(secondsInBucket: number) {
    this.lastSeconds = secondsInBucket + 1;
  }

  /**
   * The whole records a local event file gained since the last upload, as one event file to
   * upload (or null when there are none), and what to call once it is uploaded.
   */
  next(localName: string, data: Buffer): { name: string; data: Buffer; done: () => void } | null {
    const from = this.uploaded.get(localName) ?? 0;
    const scan = scanRecords(data.subarray(from), localName, from);
    // The local file's own header record (at offset 0) is replaced by the chunk's.
    const records = scan.records.filter((record) => record.offset !== 0);
    if (records.length === 0) {
      this.uploaded.set(localName, scan.end);
      return null;
    }
    const seconds = Date.now() / 1000;
    this.lastSeconds = Math.max(this.lastSeconds, Math.floor(seconds));
    const header = frameRecord(
      encodeEvent({
        file_version: FILE_VERSION,
        wall_time: seconds,
        source_metadata: { writer: 'embedding-timelapse' },
      }),
    );
    const chunk = Buffer.concat([header, ...records.map((record) => frameRecord(record.payload))]);
    const name = rollingEventFileName(this.lastSeconds, chunksNamed++, 'watcher');
    return { name, data: chunk, done: () => this.uploaded.set(localName, scan.end) };
  }
}
