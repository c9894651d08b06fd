/**
 * The `view` server: the log directory over HTTP on 127.0.0.1, read only. `/` lists the runs and
 * links each run's `embeddings/timelapse.html`; every other path is a file under the log
 * directory, sent with an ETag so an open page can poll cheaply (HEAD) and fetch its data again
 * only when the watcher has rewritten it.
 *
 * Nothing outside the log directory is ever sent: a path is decoded once, refused (403) when any
 * segment is `..` or it holds a NUL, and the file's real path (symlinks resolved) must still be
 * inside the log directory's real path. Inside it, only what the player needs is sent: pages,
 * their scripts and data, sprites and images (by extension, `SERVED_TYPES`), never a dotfile,
 * anything under `checkpoints/`, the watcher's `state.json` or event files.
 *
 * A web page on another site can reach 127.0.0.1 through a DNS name it rebinds; its requests
 * then carry that name as Host. Only `127.0.0.1:PORT`, `localhost:PORT` and `[::1]:PORT` are
 * answered, anything else gets 403.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import { UserError, describeFsError } from '../errors.ts';
import { readUserFile } from '../util/user-file.ts';
import { OWN_CHAIN_DIR, PAGE_FILE, STATE_FILE, TAG_CHAINS_DIR } from '../layout.ts';
import { comparableRuns, compareUrl, pageUrl } from './comparable.ts';

/** The files the player needs, by extension; nothing else is served. */
const SERVED_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.tsv': 'text/tab-separated-values; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** Folders and files under the log directory that hold weights or the watcher's own record. */
const PRIVATE_SEGMENTS = new Set(['checkpoints', 'state.json']);

/** The largest state.json read for the index (frames of a long run: a few MB). */
const MAX_STATE_BYTES = 64 * 1024 * 1024;

/** Whether a request path (decoded segments) names something the player needs. */
export function isServedPath(segments: string[]): boolean {
  if (segments.some((segment) => segment.startsWith('.') || PRIVATE_SEGMENTS.has(segment))) return false;
  return Object.hasOwn(SERVED_TYPES, extname(segments.at(-1) ?? '').toLowerCase());
}

/** Whether a Host header names this machine's loopback at `port` (see the module comment). */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  const allowed = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  return allowed.includes(host.toLowerCase());
}

export interface RunListing {
  /** The run, with the embedding tag for a chain of another trainer's projector files. */
  name: string;
  /** The chain's folder relative to the log directory, `/`-separated (`run/embeddings`). */
  dir: string;
  /** Frames drawn so far (from the watcher's state), or null when it cannot be read. */
  frames: number | null;
  hasPage: boolean;
}

/** Frames drawn so far, from the chain's state.json; null when there is none or it cannot be read. */
async function frameCount(chainDir: string): Promise<number | null> {
  try {
    const state = JSON.parse(
      (await readUserFile(chainDir, STATE_FILE, { maxBytes: MAX_STATE_BYTES })).toString(),
    ) as unknown;
    const frames = typeof state === 'object' && state !== null ? (state as { frames?: unknown }).frames : undefined;
    return Array.isArray(frames) ? frames.length : null;
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

export type Resolved = { ok: true; path: string } | { ok: false; status: 400 | 403 | 404 };

/**
 * Maps a request target to a file under `root` (`rootReal` is its real path), or says why not:
 * 400 unreadable, 403 outside the log directory, 404 not a file.
 */
export async function resolveRequestPath(root: string, rootReal: string, target: string): Promise<Resolved> {
  if (!target.startsWith('/')) return { ok: false, status: 400 };
  const rawPath = target.split(/[?#]/, 1)[0]!;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { ok: false, status: 400 };
  }
  if (decoded.includes('\0')) return { ok: false, status: 400 };
  const segments = decoded.split(/[/\\]/).filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { ok: false, status: 403 };
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

function send(response: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache' });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}

const STATUS_TEXT: Record<number, string> = {
  400: 'bad request',
  403: 'forbidden: outside the log directory',
  404: 'not found',
};

async function serveFile(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
  // One descriptor, opened without waiting on a pipe, is checked, streamed and always closed.
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      send(response, 404, `404 ${STATUS_TEXT[404]}\n`);
      return;
    }
    const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}-${info.ino.toString(16)}"`;
    const headers = {
      'content-type': SERVED_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream',
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

/** `log` gets one line per request that failed inside the server (e.g. out of file descriptors). */
export async function createViewServer(logdir: string, log: (line: string) => void = () => {}): Promise<Server> {
  const rootReal = await realpath(logdir);
  return createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      log(`view: ${request.url ?? '/'}: ${error instanceof UserError ? error.message : String(error)}`);
      if (!response.headersSent) send(response, 500, 'internal error\n');
      else response.destroy();
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
      const runs = await listViewRuns(logdir);
      const comparable = await comparableRuns(
        logdir,
        runs.filter((r) => r.hasPage).map((r) => r.dir),
      );
      send(response, 200, indexPage(logdir, runs, comparable), 'text/html; charset=utf-8');
      return;
    }
    const resolved = await resolveRequestPath(logdir, rootReal, target);
    if (!resolved.ok) {
      send(response, resolved.status, `${resolved.status} ${STATUS_TEXT[resolved.status]}\n`);
      return;
    }
    await serveFile(request, response, resolved.path);
  }
}
