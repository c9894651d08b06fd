/**
 * The two listings discovery needs, which the storage interface does not offer: the folders
 * directly under a folder (a delimiter listing: one request however many objects the runs hold),
 * and the keys of a folder after a given key (`StartAfter`: a run's checkpoints already seen cost
 * nothing to list again). Same retries and one-line errors as `S3Storage`; every request counted.
 */
import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { TransientError, UserError } from '../../errors.ts';
import { Retrier, describeS3Error, type RetryOptions } from '../../storage/s3-errors.ts';
import type { S3Storage } from '../../storage/s3.ts';

export class BucketListing {
  /** Requests sent (retries included), for `--verbose` cost lines. */
  requests = 0;
  private readonly retrier: Retrier;

  constructor(
    private readonly storage: S3Storage,
    options: RetryOptions = {},
  ) {
    this.retrier = new Retrier(storage.endpoint, options);
  }

  private objectKey(key: string): string {
    return this.storage.prefix ? `${this.storage.prefix}/${key}` : key;
  }

  private relativeKey(objectKey: string): string {
    return this.storage.prefix ? objectKey.slice(this.storage.prefix.length + 1) : objectKey;
  }

  private async pages(
    folder: string,
    query: { Delimiter?: string; StartAfter?: string },
  ): Promise<ListObjectsV2CommandOutput[]> {
    const Prefix = this.objectKey(folder);
    const where = folder === '' ? this.storage.root : this.storage.location(folder);
    const pages: ListObjectsV2CommandOutput[] = [];
    let ContinuationToken: string | undefined;
    do {
      const command = new ListObjectsV2Command({ Bucket: this.storage.bucket, Prefix, ContinuationToken, ...query });
      try {
        const page = await this.retrier.run(
          () => {
            this.requests++;
            return this.storage.client.send(command);
          },
          'list',
          where,
        );
        pages.push(page);
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } catch (error) {
        if (error instanceof UserError || error instanceof TransientError) throw error;
        throw describeS3Error(error, 'list', where, this.storage.endpoint);
      }
    } while (ContinuationToken);
    return pages;
  }

  /** Names of the folders directly under `folder` ('' or ending in '/'). */
  async folders(folder: string): Promise<string[]> {
    const names: string[] = [];
    for (const page of await this.pages(folder, { Delimiter: '/' })) {
      for (const common of page.CommonPrefixes ?? []) {
        const name = this.relativeKey(common.Prefix ?? '')
          .slice(folder.length)
          .replace(/\/$/, '');
        if (name !== '' && !name.startsWith('.')) names.push(name);
      }
    }
    return names.sort();
  }

  /** Keys (relative to the storage's root) under `folder`, in key order, after `startAfter` when given. */
  async keys(folder: string, startAfter?: string): Promise<string[]> {
    const query = startAfter === undefined ? {} : { StartAfter: this.objectKey(startAfter) };
    const keys: string[] = [];
    for (const page of await this.pages(folder, query)) {
      for (const object of page.Contents ?? []) if (object.Key) keys.push(this.relativeKey(object.Key));
    }
    return keys;
  }
}
