/**
 * TFRecord framing and a writer that appends whole records to a file.
 *
 * Record layout: uint64 length (LE) | masked CRC-32C of those 8 bytes | payload | masked CRC-32C
 * of the payload. A reader tailing the file (TensorBoard polls every few seconds) must never see
 * a length without its payload, so each flush hands the kernel complete records in ONE write().
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { UserError, describeFsError } from '../errors.ts';
import { maskedCrc32c } from './crc32c.ts';

export const RECORD_HEADER_BYTES = 12;
export const RECORD_FOOTER_BYTES = 4;

/** One framed record: header, payload and footer in a single buffer. */
export function frameRecord(payload: Uint8Array): Buffer {
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length + RECORD_FOOTER_BYTES);
  record.writeBigUInt64LE(BigInt(payload.length), 0);
  record.writeUInt32LE(maskedCrc32c(record.subarray(0, 8)), 8);
  record.set(payload, RECORD_HEADER_BYTES);
  record.writeUInt32LE(maskedCrc32c(payload), RECORD_HEADER_BYTES + payload.length);
  return record;
}

/**
 * Appends framed records to one file. Records are queued and written by `flush()`; with
 * `flushEachRecord` (the default) every `write` flushes at once. Synchronous on purpose: the
 * records are small, the call sites (per batch, per frame) are not hot, and a synchronous write
 * can still run from a process 'exit' handler.
 */
export class RecordWriter {
  readonly path: string;
  private fd: number | undefined;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private readonly flushEachRecord: boolean;

  /** Creates `path`; refuses to overwrite an existing file (`exclusive`, the default). */
  constructor(path: string, options: { flushEachRecord?: boolean; exclusive?: boolean } = {}) {
    this.path = path;
    this.flushEachRecord = options.flushEachRecord ?? true;
    try {
      this.fd = openSync(path, options.exclusive === false ? 'a' : 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw error; // caller picks another name
      throw new UserError(describeFsError(error, 'create event file', path));
    }
  }

  get closed(): boolean {
    return this.fd === undefined;
  }

  /** Queues one payload as a record (and writes it now when flushing each record). */
  write(payload: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`record writer for ${this.path} is closed`);
    const record = frameRecord(payload);
    this.queue.push(record);
    this.queuedBytes += record.length;
    if (this.flushEachRecord) this.flush();
  }

  /** Bytes queued and not yet written. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  /** Writes every queued record with one write() call. */
  flush(): void {
    if (this.fd === undefined || this.queue.length === 0) return;
    const data = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue);
    this.queue = [];
    this.queuedBytes = 0;
    try {
      let written = writeSync(this.fd, data);
      // Regular files take the whole buffer in one call; the loop only guards against a short
      // write (e.g. a signal), after which the reader sees a partial record, which it tolerates.
      while (written < data.length) written += writeSync(this.fd, data, written);
    } catch (error) {
      throw new UserError(describeFsError(error, 'write', this.path));
    }
  }

  /** Flushes, asks the OS to persist the file (durability on crash), and closes it. */
  close(): void {
    if (this.fd === undefined) return;
    try {
      this.flush();
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
