/**
 * What the `view` server sends, wherever the log directory lives (a local folder or an `s3://`
 * prefix): only the player's files, by extension, never a dotfile, anything under
 * `checkpoints/`, the watcher's `state.json` or event files; and what it lists: the chains with
 * their frame counts.
 */
import type { ServerResponse } from 'node:http';
import { extname } from 'node:path';

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
export const MAX_STATE_BYTES = 64 * 1024 * 1024;

/** Whether a request path (decoded segments) names something the player needs. */
export function isServedPath(segments: string[]): boolean {
  if (segments.some((segment) => segment.startsWith('.') || PRIVATE_SEGMENTS.has(segment))) return false;
  return Object.hasOwn(SERVED_TYPES, extname(segments.at(-1) ?? '').toLowerCase());
}

/** The Content-Type of a served file, by its name's extension. */
export function contentTypeOf(name: string): string {
  return SERVED_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream';
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

/** Frames drawn so far, from the text of a chain's state.json; null when it is not a record. */
export function framesInState(text: string): number | null {
  try {
    const state = JSON.parse(text) as unknown;
    const frames = typeof state === 'object' && state !== null ? (state as { frames?: unknown }).frames : undefined;
    return Array.isArray(frames) ? frames.length : null;
  } catch {
    return null;
  }
}

export type Resolved = { ok: true; path: string } | { ok: false; status: 400 | 403 | 404 };

/**
 * The segments of a request target, or why not: 400 unreadable (not a path, bad escapes, a
 * NUL), 403 a `..` segment. Both `/` and `\` separate segments; empty and `.` ones are dropped.
 */
export function requestSegments(target: string): { ok: true; segments: string[] } | { ok: false; status: 400 | 403 } {
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
  return { ok: true, segments };
}

const STATUS_TEXT = {
  400: 'bad request',
  403: 'forbidden: outside the log directory',
  404: 'not found',
} as const;

/** A refusal: its status code and what it means, as one line. */
export function sendStatus(response: ServerResponse, status: keyof typeof STATUS_TEXT): void {
  send(response, status, `${status} ${STATUS_TEXT[status]}\n`);
}

export function send(response: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache' });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
