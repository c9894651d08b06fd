/**
 * The `view` server's reads from a log directory behind the storage interface (`s3://bucket/prefix`):
 * the same chains in the index and the same files as from disk, by the same rules (served.ts),
 * applied to keys. Symlinks do not exist there, so a key is refused or served by its name alone.
 *
 * The chains come from one listing of the prefix, as `inspect` finds runs (summarize-storage.ts).
 * A file's ETag is the object's own, so an open page's poll (HEAD or If-None-Match) costs one
 * HeadObject and no body until the watcher has replaced the object.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OWN_CHAIN_DIR, PAGE_FILE, STATE_FILE, TAG_CHAINS_DIR } from '../layout.ts';
import { isObjectNotFound, type ObjectInfo, type Storage } from '../storage/storage.ts';
import type { PageReader } from './comparable.ts';
import {
  MAX_STATE_BYTES,
  STATUS_TEXT,
  contentTypeOf,
  framesInState,
  isServedPath,
  requestSegments,
  send,
  type RunListing,
} from './served.ts';

/** Frames drawn so far, from the chain's state.json object; null when there is none or it cannot be read. */
async function frameCount(storage: Storage, state: ObjectInfo | undefined): Promise<number | null> {
  if (state === undefined || state.size > MAX_STATE_BYTES) return null;
  try {
    return framesInState((await storage.read(state.key)).toString());
  } catch (error) {
    // Replaced by a half-finished watcher's delete, or gone: the run is listed without frames.
    if (isObjectNotFound(error)) return null;
    throw error;
  }
}

/**
 * The chains under the storage's root, as `listViewRuns` lists them on disk: every run's own
 * chain (listed even before the watcher made it) and the chains of its embedding tags. A run is
 * a first-level folder that holds any object; names starting with '.' are passed over.
 */
export async function listStorageChains(storage: Storage): Promise<RunListing[]> {
  const objects = new Map<string, ObjectInfo>();
  const chains = new Map<string, string>(); // dir → name
  for (const object of await storage.list('')) {
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
  const runs: RunListing[] = [];
  for (const [dir, name] of chains) {
    const frames = await frameCount(storage, objects.get(`${dir}/${STATE_FILE}`));
    runs.push({ name, dir, frames, hasPage: objects.has(`${dir}/${PAGE_FILE}`) });
  }
  return runs.sort((a, b) => a.name.localeCompare(b.name));
}

/** Reads the pages of chains under the storage's root, for `comparableRuns`. */
export function storagePageReader(storage: Storage): PageReader {
  return async (dir) => {
    try {
      return (await storage.read(`${dir}/${PAGE_FILE}`)).toString('utf8');
    } catch (error) {
      if (isObjectNotFound(error)) return null;
      throw error;
    }
  };
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
  const status = !parsed.ok ? parsed.status : isServedPath(parsed.segments) ? 0 : 404;
  if (!parsed.ok || status !== 0) {
    send(response, status, `${status} ${STATUS_TEXT[status]}\n`);
    return;
  }
  const key = parsed.segments.join('/');
  // The ETag is taken before the body: if the object is replaced in between, the page gets the
  // newer body under the older ETag and merely fetches it once more, never the reverse.
  const info = await storage.stat(key);
  if (info === undefined) {
    send(response, 404, `404 ${STATUS_TEXT[404]}\n`);
    return;
  }
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
    send(response, 404, `404 ${STATUS_TEXT[404]}\n`);
    return;
  }
  response.writeHead(200, { ...headers, 'content-length': body.length });
  response.end(body);
}
