/**
 * The `view` server: the log directory over HTTP on 127.0.0.1, read only. `/` lists the runs and
 * links each run's `embeddings/timelapse.html`; every other path is a file under the log
 * directory, sent with an ETag so an open page can poll cheaply (HEAD) and fetch its data again
 * only when the watcher has rewritten it.
 *
 * Nothing outside the log directory is ever sent: a path is decoded once, refused (403) when any
 * segment is `..` or it holds a NUL, and the file's real path (symlinks resolved) must still be
 * inside the log directory's real path. Inside it, only what the player needs is sent: pages,
 * their scripts and data, sprites and images (by extension, served.ts), never a dotfile,
 * anything under `checkpoints/`, the watcher's `state.json` or event files.
 *
 * An `s3://bucket/prefix` log directory is read through the storage interface instead
 * (storage-source.ts): the same index, the same files by the same rules applied to keys, the
 * object's own ETag. While the store is away a request is answered 503, when it refuses 502,
 * each with one line.
 *
 * A web page on another site can reach 127.0.0.1 through a DNS name it rebinds; its requests
 * then carry that name as Host. Only `127.0.0.1:PORT`, `localhost:PORT` and `[::1]:PORT` are
 * answered, anything else gets 403.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join, relative, sep } from 'node:path';
import { TransientError, UserError, describeFsError } from '../errors.ts';
import { readUserFile } from '../util/user-file.ts';
import { OWN_CHAIN_DIR, PAGE_FILE, STATE_FILE, TAG_CHAINS_DIR } from '../layout.ts';
import { isS3Url, storageFor, type Storage } from '../storage/index.ts';
import { comparableRuns, compareUrl, localPointsKeys, pageUrl, type PointsKeyReader } from './comparable.ts';
import {
  MAX_STATE_BYTES,
  contentTypeOf,
  framesInState,
  isServedPath,
  requestSegments,
  send,
  sendStatus,
  type Resolved,
  type RunListing,
} from './served.ts';
import { StorageChains, serveObject } from './storage-source.ts';

export { isServedPath, type Resolved, type RunListing } from './served.ts';

/** Whether a Host header names this machine's loopback at `port` (see the module comment). */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  const allowed = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  return allowed.includes(host.toLowerCase());
}

/** Frames drawn so far, from the chain's state.json; null when there is none or it cannot be read. */
async function frameCount(chainDir: string): Promise<number | null> {
  try {
    return framesInState((await readUserFile(chainDir, STATE_FILE, { maxBytes: MAX_STATE_BYTES })).toString());
  } catch {
    return null;
  }
}

async function listChain(logdir: string, name: string, dir: string): Promise<RunListing> {
  const chainDir = join(logdir, ...dir.split('/'));
  const hasPage = await lstat(join(chainDir, PAGE_FILE)).then(
    (s) => s.isFile(),
    () => false,
  );
  return { name, dir, frames: await frameCount(chainDir), hasPage };
}

/** The chains of another trainer's embedding tags in a run (`<run>/timelapse/<tag>/`). */
async function tagChainFolders(logdir: string, run: string): Promise<string[]> {
  const entries = await readdir(join(logdir, run, TAG_CHAINS_DIR), { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
}

/**
 * The chains of a log directory: every run's own chain (its `embeddings/`, listed even before
 * the watcher made it) and the chains of its embedding tags, with their frame count and whether
 * a page exists. One run whose files cannot be read is listed without frames; only a log
 * directory that cannot be listed throws (a one-line `UserError`).
 */
export async function listViewRuns(logdir: string): Promise<RunListing[]> {
  let entries;
  try {
    entries = await readdir(logdir, { withFileTypes: true });
  } catch (error) {
    throw new UserError(describeFsError(error, 'list the runs in', logdir));
  }
  const runs: RunListing[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    runs.push(await listChain(logdir, entry.name, `${entry.name}/${OWN_CHAIN_DIR}`));
    for (const tag of await tagChainFolders(logdir, entry.name)) {
      runs.push(await listChain(logdir, `${entry.name} · ${tag}`, `${entry.name}/${TAG_CHAINS_DIR}/${tag}`));
    }
  }
  return runs.sort((a, b) => a.name.localeCompare(b.name));
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function indexPage(logdir: string, runs: RunListing[], comparable: Map<string, string[]>): string {
  const nameOf = new Map(runs.map((run) => [run.dir, run.name]));
  const rows = runs.map((run) => {
    const others = (comparable.get(run.dir) ?? []).map(
      (other) => `<a href="${compareUrl(run.dir, other)}">${escapeHtml(nameOf.get(other) ?? other)}</a>`,
    );
    const compare = others.length > 0 ? ` · compare with ${others.join(', ')}` : '';
    const frames = run.frames === null ? 'no frames yet' : `${run.frames} frame${run.frames === 1 ? '' : 's'}`;
    const name = escapeHtml(run.name);
    const link = run.hasPage
      ? `<a href="${pageUrl(run.dir)}">${name}</a>`
      : `${name} <small>(waiting for the watcher)</small>`;
    return `<li>${link} · ${frames}${compare}</li>`;
  });
  const list =
    rows.length > 0
      ? `<ul>${rows.join('\n')}</ul>`
      : '<p>No runs yet. Start <code>train</code> and <code>watch</code>.</p>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>embedding-timelapse runs</title>
<meta http-equiv="refresh" content="10">
<style>body{font:14px/1.5 system-ui,sans-serif;margin:24px;color:#262626}li{margin:4px 0}small{color:#777}</style>
</head>
<body><h1>Runs in ${escapeHtml(logdir)}</h1>${list}</body></html>
`;
}

/**
 * Maps a request target to a file under `root` (`rootReal` is its real path), or says why not:
 * 400 unreadable, 403 outside the log directory, 404 not a file.
 */
export async function resolveRequestPath(root: string, rootReal: string, target: string): Promise<Resolved> {
  const parsed = requestSegments(target);
  if (!parsed.ok) return parsed;
  const { segments } = parsed;
  const candidate = join(root, ...segments);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    return { ok: false, status: 404 };
  }
  if (real !== rootReal && !real.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep))
    return { ok: false, status: 403 };
  // Both the name asked for and the file it leads to must be something the player needs.
  if (!isServedPath(segments) || !isServedPath(relative(rootReal, real).split(sep))) return { ok: false, status: 404 };
  const info = await stat(real).catch(() => null);
  if (!info?.isFile()) return { ok: false, status: 404 };
  return { ok: true, path: real };
}

async function serveLocalFile(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
  // One descriptor, opened without waiting on a pipe, is checked, streamed and always closed.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      sendStatus(response, 404);
      return;
    }
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}-${info.ino.toString(16)}"`;
    const headers = {
      'content-type': contentTypeOf(path),
      'cache-control': 'no-cache',
      etag,
    };
    if (request.headers['if-none-match'] === etag) {
      response.writeHead(304, headers);
      response.end();
      return;
    }
    response.writeHead(200, { ...headers, 'content-length': info.size });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    // The watcher replaces files by rename, so the open file stays whole while it is streamed.
    // pipeline ends the file stream however the response ends (done, aborted, failed).
    await pipeline(
      handle.createReadStream({ autoClose: false, start: 0, end: Math.max(0, info.size - 1) }),
      response,
    ).catch(() => response.destroy());
  } finally {
    await handle.close();
  }
}

/** How long a request waits for object storage that is away before it is answered 503. */
export const VIEW_RETRY_MS = 10_000;

/** The storage `view` reads an `s3://` log directory through: requests wait seconds, not minutes. */
export function viewStorage(logdir: string): Storage {
  return storageFor(logdir, { retryForMs: VIEW_RETRY_MS });
}

/** Where the server reads: a local folder (with its real-path checks) or the storage interface. */
interface ViewSource {
  title: string;
  listRuns(): Promise<RunListing[]>;
  pointsKey: PointsKeyReader;
  serveFile(request: IncomingMessage, response: ServerResponse, target: string): Promise<void>;
  /** Object storage: its failures are answered 502 (refused) or 503 (away), not 500. */
  remote: boolean;
}

async function localSource(logdir: string): Promise<ViewSource> {
  const rootReal = await realpath(logdir);
  return {
    title: logdir,
    listRuns: () => listViewRuns(logdir),
    pointsKey: localPointsKeys(logdir),
    async serveFile(request, response, target) {
      const resolved = await resolveRequestPath(logdir, rootReal, target);
      if (!resolved.ok) sendStatus(response, resolved.status);
      else await serveLocalFile(request, response, resolved.path);
    },
    remote: false,
  };
}

function storageSource(storage: Storage): ViewSource {
  const chains = new StorageChains(storage);
  return {
    title: storage.root,
    listRuns: () => chains.list(),
    pointsKey: chains.pointsKey,
    serveFile: (request, response, target) => serveObject(storage, request, response, target),
    remote: true,
  };
}

/**
 * The server for a local log directory, an `s3://bucket/prefix` or a storage already opened.
 * `log` gets one line per request that failed inside the server (e.g. out of file descriptors,
 * object storage away).
 */
export async function createViewServer(
  logdir: string | Storage,
  log: (line: string) => void = () => {},
): Promise<Server> {
  const source =
    typeof logdir !== 'string'
      ? storageSource(logdir)
      : isS3Url(logdir)
        ? storageSource(viewStorage(logdir))
        : await localSource(logdir);
  return createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      const known = error instanceof UserError || error instanceof TransientError;
      const message = known ? error.message : String(error);
      log(`view: ${request.url ?? '/'}: ${message}`);
      if (response.headersSent) response.destroy();
      else if (source.remote && error instanceof TransientError) send(response, 503, `503 ${message}\n`);
      else if (source.remote && error instanceof UserError) send(response, 502, `502 ${message}\n`);
      else send(response, 500, 'internal error\n');
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' });
      response.end();
      return;
    }
    if (!isLoopbackHost(request.headers.host, request.socket.localPort ?? -1)) {
      send(response, 403, '403 forbidden: only Host 127.0.0.1, localhost or [::1] with this port is answered\n');
      return;
    }
    const target = request.url ?? '/';
    if (target === '/' || target.startsWith('/?')) {
      const runs = await source.listRuns();
      const comparable = await comparableRuns(
        source.pointsKey,
        runs.filter((r) => r.hasPage).map((r) => r.dir),
      );
      send(response, 200, indexPage(source.title, runs, comparable), 'text/html; charset=utf-8');
      return;
    }
    await source.serveFile(request, response, target);
  }
}
