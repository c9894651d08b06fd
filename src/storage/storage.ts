/**
 * One interface for where a log directory lives: a local folder or a prefix in an S3 bucket. The
 * rest of the code names objects by key (`run/frames/0001.png`, always '/'-separated, relative to
 * the log directory) and never learns which of the two it writes to.
 *
 * Only what both can promise is offered. S3 has no rename and no append, but a whole-object PUT
 * is atomic, so every write replaces a whole object and a reader sees the old version or the new
 * one, never a part. Conditional writes (create-if-absent, replace-if-unchanged) are the only way
 * two processes on different machines agree on anything (see lease.ts).
 */
import { UserError } from '../errors.ts';

/** What a listing or `stat` tells about one object. */
export interface ObjectInfo {
  /** Relative to the storage's root, '/'-separated. */
  key: string;
  size: number;
  modified: Date;
  /**
   * Changes whenever the object is replaced: the S3 ETag (without quotes), or for a local file
   * its inode, size and modification time. Pass it to `replaceIfUnchanged`.
   */
  etag: string;
}

export interface Storage {
  /** `s3://bucket/prefix` or the local folder, for messages. */
  readonly root: string;
  /** Where `key` is, for messages: `s3://bucket/prefix/key` or `/folder/key`. */
  location(key: string): string;

  /** The whole object; `ObjectNotFoundError` when it does not exist. */
  read(key: string): Promise<Buffer>;
  /** Bytes `[start, end)` (to the end when `end` is omitted); empty when `start` is at or past the end. */
  readRange(key: string, start: number, end?: number): Promise<Buffer>;
  /** Replaces the whole object; readers see the old one or the new one, never a part. */
  write(key: string, data: Uint8Array | string): Promise<void>;
  /** Creates the object only when none exists (S3 `If-None-Match: *`); false when one already did. */
  createIfAbsent(key: string, data: Uint8Array | string): Promise<boolean>;
  /**
   * Replaces the object only when its etag is still `etag` (S3 `If-Match`); false when another
   * writer replaced or deleted it in between.
   */
  replaceIfUnchanged(key: string, data: Uint8Array | string, etag: string): Promise<boolean>;
  /** Every object whose key starts with `prefix`, in key order. Half-written local files are left out. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Size, time and etag, or undefined when the object does not exist. */
  stat(key: string): Promise<ObjectInfo | undefined>;
  exists(key: string): Promise<boolean>;
  /** Removes the object; nothing happens when it does not exist. */
  delete(key: string): Promise<void>;
}

/** The object asked for does not exist (yet). */
export class ObjectNotFoundError extends UserError {
  constructor(readonly where: string) {
    super(`cannot read ${where}: it does not exist; check the path`);
    this.name = 'ObjectNotFoundError';
  }
}

export function isObjectNotFound(error: unknown): error is ObjectNotFoundError {
  return error instanceof ObjectNotFoundError;
}

/** Joins key parts with '/', dropping empty parts and doubled or edge slashes. */
export function joinKey(...parts: string[]): string {
  return parts
    .flatMap((part) => part.split('/'))
    .filter((part) => part !== '')
    .join('/');
}

/** Refuses keys that could leave the root ('..', '.', empty parts) or name the root itself. */
export function checkKey(key: string, root: string): void {
  const parts = key.split('/');
  if (key === '' || parts.some((part) => part === '' || part === '.' || part === '..')) {
    throw new UserError(
      `invalid object name '${key}' under ${root}: use '/'-separated names without '.', '..' or '//'`,
    );
  }
}

export function toBuffer(data: Uint8Array | string): Buffer {
  return typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
