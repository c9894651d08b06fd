/**
 * Where a log directory lives: `s3://bucket/prefix` on S3-compatible object storage, anything
 * else a local folder. See storage.ts for what both promise, and docs/object-storage.md.
 */
import { LocalStorage } from './local.ts';
import { S3Storage, parseS3Url, type S3StorageOptions } from './s3.ts';
import type { Storage } from './storage.ts';

export type { ObjectInfo, Storage } from './storage.ts';
export { ObjectNotFoundError, isObjectNotFound, joinKey } from './storage.ts';
export { LocalStorage } from './local.ts';
export { S3Storage, parseS3Url, s3ClientConfig, configuredEndpoint } from './s3.ts';

/** True for `s3://…` log directories. */
export function isS3Url(logdir: string): boolean {
  return /^s3:\/\//i.test(logdir);
}

/** The storage a log directory names: S3 for `s3://bucket/prefix`, else the local folder. */
export function storageFor(logdir: string, options: S3StorageOptions = {}): Storage {
  return isS3Url(logdir) ? new S3Storage(parseS3Url(logdir), options) : new LocalStorage(logdir);
}
