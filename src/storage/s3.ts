/**
 * The storage interface on a prefix of an S3 bucket, with the AWS SDK for JavaScript v3 and its
 * standard configuration: credentials and region from the environment or the shared config
 * files (AWS_PROFILE), the endpoint from AWS_ENDPOINT_URL(_S3) or the config file's endpoint_url,
 * or else S3_ENDPOINT (the variable TensorBoard reads). A configured endpoint means an
 * S3-compatible store (Ceph, MinIO), so requests use path style (`endpoint/bucket/key`).
 *
 * Bodies are always whole Buffers: streamed bodies make the SDK send aws-chunked uploads, which
 * some gateways (Ceph RGW 16) refuse with 411.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { TransientError, UserError } from '../errors.ts';
import { ObjectNotFoundError, checkKey, toBuffer, type ObjectInfo, type Storage } from './storage.ts';
import { Retrier, describeS3Error, errorName, statusOf, type RetryOptions } from './s3-errors.ts';

export interface S3Location {
  bucket: string;
  /** Without leading or trailing '/'; '' for the whole bucket. */
  prefix: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `s3://bucket/prefix` → bucket and prefix; one line when it is not a usable address. */
export function parseS3Url(url: string): S3Location {
  const match = /^s3:\/\/([^/]*)\/?(.*)$/i.exec(url);
  if (!match) throw new UserError(`'${url}' is not an s3:// address; write s3://bucket/prefix`);
  const bucket = match[1]!;
  if (!BUCKET_NAME.test(bucket)) {
    throw new UserError(
      `'${url}': '${bucket}' is not a valid bucket name; use 3-63 lowercase letters, digits, '-' or '.'`,
    );
  }
  const prefix = match[2]!.replace(/\/+$/, '');
  if (prefix !== '' && prefix.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new UserError(`'${url}': the prefix has an empty, '.' or '..' part; write s3://bucket/folder/sub`);
  }
  return { bucket, prefix };
}

/** The endpoint the user configured in the environment, if any (for path style and for messages). */
export function configuredEndpoint(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || env.S3_ENDPOINT || undefined;
}

/** The SDK's own configuration, plus what an S3-compatible endpoint needs. */
export function s3ClientConfig(env: NodeJS.ProcessEnv = process.env): S3ClientConfig {
  const endpoint = configuredEndpoint(env);
  const config: S3ClientConfig = {
    // A stopped (not crashed) gateway would otherwise hold a request forever.
    requestHandler: { connectionTimeout: 5000, requestTimeout: 60_000 },
  };
  if (endpoint) {
    config.forcePathStyle = true;
    // The SDK reads AWS_ENDPOINT_URL(_S3) itself; S3_ENDPOINT is TensorBoard's name for the same.
    if (!env.AWS_ENDPOINT_URL_S3 && !env.AWS_ENDPOINT_URL) config.endpoint = endpoint;
    // S3-compatible stores mostly ignore the region, but the SDK signs with one.
    if (!env.AWS_REGION && !env.AWS_DEFAULT_REGION && !env.AWS_PROFILE) config.region = 'us-east-1';
  }
  return config;
}

export interface S3StorageOptions extends RetryOptions {
  /** A client of the caller's (tests: another endpoint or other credentials); `endpoint` then names it. */
  client?: S3Client;
  endpoint?: string;
}

export class S3Storage implements Storage {
  readonly root: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly client: S3Client;
  /** For messages: the configured endpoint, or AWS S3 itself. */
  readonly endpoint: string;
  private readonly retrier: Retrier;
  /** Requests sent (retries included), for `--verbose` cost lines. */
  requests = 0;

  constructor(location: S3Location, options: S3StorageOptions = {}) {
    this.bucket = location.bucket;
    this.prefix = location.prefix;
    this.root = `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
    // The SDK's advice to upgrade Node (it prints eight lines on Node 20) is not the user's business here.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    this.client = options.client ?? new S3Client(s3ClientConfig());
    this.endpoint = options.endpoint ?? configuredEndpoint() ?? 'AWS S3';
    this.retrier = new Retrier(this.endpoint, options);
  }

  location(key: string): string {
    return `${this.root}/${key}`;
  }

  private objectKey(key: string): string {
    checkKey(key, this.root);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  private relativeKey(objectKey: string): string {
    return this.prefix ? objectKey.slice(this.prefix.length + 1) : objectKey;
  }

  /** Sends with backoff while the endpoint is away; any other failure becomes one line. */
  private async send<T>(action: string, key: string, operation: () => Promise<T>): Promise<T> {
    const where = key === '' ? this.root : this.location(key);
    try {
      return await this.retrier.run(
        () => {
          this.requests++;
          return operation();
        },
        action,
        where,
      );
    } catch (error) {
      if (error instanceof UserError || error instanceof TransientError) throw error;
      const status = statusOf(error);
      if (status === 404 && (errorName(error) === 'NoSuchKey' || errorName(error) === 'NotFound')) {
        throw new ObjectNotFoundError(where);
      }
      throw describeS3Error(error, action, where, this.endpoint);
    }
  }

  async read(key: string): Promise<Buffer> {
    const Key = this.objectKey(key);
    return this.send('read', key, async () => {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      return Buffer.from(await response.Body!.transformToByteArray());
    });
  }

  async readRange(key: string, start: number, end?: number): Promise<Buffer> {
    const Key = this.objectKey(key);
    if (end !== undefined && end <= start) return Buffer.alloc(0);
    const Range = `bytes=${start}-${end === undefined ? '' : end - 1}`;
    return this.send('read', key, async () => {
      try {
        const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range }));
        return Buffer.from(await response.Body!.transformToByteArray());
      } catch (error) {
        if (statusOf(error) === 416) return Buffer.alloc(0); // start at or past the end
        throw error;
      }
    });
  }

  async write(key: string, data: Uint8Array | string): Promise<void> {
    const Key = this.objectKey(key);
    const Body = toBuffer(data);
    await this.send('write', key, () => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body })));
  }

  async createIfAbsent(key: string, data: Uint8Array | string): Promise<boolean> {
    return this.putConditional(key, data, { IfNoneMatch: '*' }, 'create');
  }

  /**
   * The ETag goes without quotes: Ceph RGW 16 compares If-Match against the bare value and
   * refuses the quoted form even when it matches.
   */
  async replaceIfUnchanged(key: string, data: Uint8Array | string, etag: string): Promise<boolean> {
    return this.putConditional(key, data, { IfMatch: etag }, 'replace');
  }

  private async putConditional(
    key: string,
    data: Uint8Array | string,
    condition: { IfNoneMatch?: string; IfMatch?: string },
    action: string,
  ): Promise<boolean> {
    const Key = this.objectKey(key);
    const Body = toBuffer(data);
    return this.send(action, key, async () => {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body, ...condition }));
        return true;
      } catch (error) {
        // 412: the condition failed; 409: another conditional write to the key is in flight (AWS).
        const status = statusOf(error);
        if (status === 412 || status === 409) return false;
        if (status === 404 && errorName(error) === 'NoSuchKey') return false; // If-Match on a deleted object
        throw error;
      }
    });
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const Prefix = this.prefix ? `${this.prefix}/${prefix}` : prefix;
    const found: ObjectInfo[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.send('list', prefix, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken })),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined || object.Key.endsWith('/')) continue;
        found.push({
          key: this.relativeKey(object.Key),
          size: object.Size ?? 0,
          modified: object.LastModified ?? new Date(0),
          etag: unquote(object.ETag),
        });
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return found;
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const Key = this.objectKey(key);
    return this.send('read', key, async () => {
      try {
        const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
        return {
          key,
          size: head.ContentLength ?? 0,
          modified: head.LastModified ?? new Date(0),
          etag: unquote(head.ETag),
        };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  async delete(key: string): Promise<void> {
    const Key = this.objectKey(key);
    await this.send('delete', key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key })));
  }
}

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}
