/**
 * The `view` server's reads from a log directory behind the storage interface (`s3://bucket/prefix`):
 * the same chains in the index and the same files as from disk, by the same rules (served.ts),
 * applied to keys. Symlinks do not exist there, so a key is refused or served by its name alone.
 *
 * The chains come from one listing of the prefix, as `inspect` finds runs (summarize-storage.ts).
 * A file's ETag is the object's own, so an open page's poll (HEAD or If-None-Match) costs one
 * HeadObject and no body until the watcher has replaced the object.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OWN_CHAIN_DIR, PAGE_FILE, STATE_FILE, TAG_CHAINS_DIR } from '../layout.ts';
import { isObjectNotFound, type ObjectInfo, type Storage } from '../storage/storage.ts';
import { pointsKeyOf, type PointsKeyReader } from './comparable.ts';
import {
  MAX_STATE_BYTES,
  contentTypeOf,
  framesInState,
  isServedPath,
  requestSegments,
  sendStatus,
  type RunListing,
} from './served.ts';

/** A value worked out from one version of an object, kept until the object changes. */
interface Cached<T> {
  etag: string;
  value: T;
}

/**
 * The chains under the storage's root, as `listViewRuns` lists them on disk: every run's own
 * chain (listed even before the watcher made it) and the chains of its embedding tags. A run is
 * a first-level folder that holds any object; names starting with '.' are passed over.
 *
 * What each `state.json` and page says is kept by the object's ETag (from the listing), so an
 * index whose chains did not change costs one listing, not a GET of every record and page.
 */
export class StorageChains {
  private objects = new Map<string, ObjectInfo>();
  private readonly frames = new Map<string, Cached<number | null>>();
  private readonly points = new Map<string, Cached<string | null>>();

  constructor(private readonly storage: Storage) {}

  async list(): Promise<RunListing[]> {
    const objects = new Map<string, ObjectInfo>();
    const chains = new Map<string, string>(); // dir → name
    for (const object of await this.storage.list('')) {
      objects.set(object.key, object);
      const parts = object.key.split('/');
      const run = parts[0]!;
      if (parts.length < 2 || run.startsWith('.')) continue;
      chains.set(`${run}/${OWN_CHAIN_DIR}`, run);
      const tag = parts[2];
      if (parts[1] === TAG_CHAINS_DIR && parts.length > 3 && !tag!.startsWith('.')) {
        chains.set(`${run}/${TAG_CHAINS_DIR}/${tag}`, `${run} · ${tag}`);
      }
    }
    this.objects = objects;
    for (const cache of [this.frames, this.points]) {
      for (const key of cache.keys()) if (!objects.has(key)) cache.delete(key);
    }
    const runs = await Promise.all(
      [...chains].map(async ([dir, name]) => ({
        name,
        dir,
        frames: await this.frameCount(`${dir}/${STATE_FILE}`),
        hasPage: objects.has(`${dir}/${PAGE_FILE}`),
      })),
    );
    return runs.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** For `comparableRuns`: the points the page of chain `dir` shows, as of the last listing. */
  readonly pointsKey: PointsKeyReader = (dir) =>
    this.cachedRead(this.points, `${dir}/${PAGE_FILE}`, Infinity, (text) => {
      const key = pointsKeyOf(text);
      // The labels of many points: only a digest is kept, which compares the same.
      return key === null ? null : createHash('sha256').update(key).digest('base64');
    });

  /** Frames drawn so far, from the chain's state.json; null when there is none or it cannot be read. */
  private frameCount(key: string): Promise<number | null> {
    return this.cachedRead(this.frames, key, MAX_STATE_BYTES, framesInState);
  }

  private async cachedRead<T>(
    cache: Map<string, Cached<T | null>>,
    key: string,
    maxBytes: number,
    parse: (text: string) => T | null,
  ): Promise<T | null> {
    const info = this.objects.get(key);
    if (info === undefined || info.size > maxBytes) return null;
    const cached = cache.get(key);
    if (cached?.etag === info.etag) return cached.value;
    let value: T | null;
    try {
      value = parse((await this.storage.read(key)).toString('utf8'));
    } catch (error) {
      // Deleted since the listing: the chain is shown without it until the next listing.
      if (isObjectNotFound(error)) return null;
      throw error;
    }
    cache.set(key, { etag: info.etag, value });
    return value;
  }
}

/**
 * Answers a request for one file: 400/403/404 as on disk, 304 when If-None-Match names the
 * object's current ETag, else its headers (HEAD) or its whole body. Storage failures are thrown
 * for the caller to answer (502/503).
 */
export async function serveObject(
  storage: Storage,
  request: IncomingMessage,
  response: ServerResponse,
  target: string,
): Promise<void> {
  const parsed = requestSegments(target);
  if (!parsed.ok) return sendStatus(response, parsed.status);
  if (!isServedPath(parsed.segments)) return sendStatus(response, 404);
  const key = parsed.segments.join('/');
  // The ETag is taken before the body: if the object is replaced in between, the page gets the
  // newer body under the older ETag and merely fetches it once more, never the reverse.
  const info = await storage.stat(key);
  if (info === undefined) return sendStatus(response, 404);
  const etag = `"${info.etag}"`;
  const headers = { 'content-type': contentTypeOf(key), 'cache-control': 'no-cache', etag };
  if (request.headers['if-none-match'] === etag) {
    response.writeHead(304, headers);
    response.end();
    return;
  }
  if (request.method === 'HEAD') {
    response.writeHead(200, { ...headers, 'content-length': info.size });
    response.end();
    return;
  }
  let body: Buffer;
  try {
    body = await storage.read(key);
  } catch (error) {
    if (!isObjectNotFound(error)) throw error;
    return sendStatus(response, 404);
  }
  response.writeHead(200, { ...headers, 'content-length': body.length });
  response.end(body);
}
