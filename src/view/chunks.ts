/**
 * The page's data files beside it, in `<embeddings>/page/`: `frames-NNNNNN.js`, one per batch of
 * frames the watcher appended, and `index.js`, which says how many there are. They are scripts,
 * not JSON, because a page opened from file:// may load scripts but not fetch files: each calls a
 * function of the page with its data (`timelapseChunk({...})`, `timelapseIndex({...})`);
 * `header.js` repeats the page's header so that another page can show this run beside its own.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PAGE_DATA_DIR, PAGE_INDEX_FILE } from '../layout.ts';
import type { Bounds, FrameChunk, PageHeader } from './encode.ts';

export const CHUNK_DIR = PAGE_DATA_DIR;
export const INDEX_FILE = PAGE_INDEX_FILE;
/** The page's header again, for other pages (a run compared side by side): `timelapseHeader({...})`. */
export const HEADER_FILE = 'header.js';

export interface ChunkIndex {
  chain: string;
  chunks: number;
}

export function chunkFileName(index: number): string {
  return `frames-${String(index).padStart(6, '0')}.js`;
}

/** JSON that is also safe inside a script: `<` escaped. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function chunkScript(chunk: FrameChunk): string {
  return `timelapseChunk(${scriptJson(chunk)});\n`;
}

export function headerScript(header: PageHeader): string {
  return `timelapseHeader(${scriptJson(header)});\n`;
}

export function indexScript(index: ChunkIndex): string {
  return `timelapseIndex(${scriptJson(index)});\n`;
}

function scriptArgument(text: string, call: string): unknown {
  const prefix = `${call}(`;
  const body = text.trimEnd();
  if (!body.startsWith(prefix) || !body.endsWith(');')) return null;
  try {
    return JSON.parse(body.slice(prefix.length, -2)) as unknown;
  } catch {
    return null;
  }
}

/** What a restarted writer needs of the chunks already written: their steps and bounds. */
export interface WrittenChunk {
  steps: number[];
  bounds: Bounds;
}

/**
 * The chunks of chain `chain` in `dir`, in order, as listed by its index; null when the index is
 * missing, of another chain, or names a chunk that is missing or damaged (then the page starts
 * over).
 */
export async function readWrittenChunks(dir: string, chain: string): Promise<WrittenChunk[] | null> {
  const index = scriptArgument(
    await readFile(join(dir, INDEX_FILE), 'utf8').catch(() => ''),
    'timelapseIndex',
  ) as ChunkIndex | null;
  if (!index || index.chain !== chain || !Number.isInteger(index.chunks)) return null;
  const chunks: WrittenChunk[] = [];
  for (let k = 0; k < index.chunks; k++) {
    const text = await readFile(join(dir, chunkFileName(k)), 'utf8').catch(() => '');
    const chunk = scriptArgument(text, 'timelapseChunk') as FrameChunk | null;
    if (!chunk || chunk.chain !== chain || chunk.index !== k || !Array.isArray(chunk.steps)) return null;
    chunks.push({ steps: chunk.steps, bounds: chunk.bounds });
  }
  return chunks;
}

/** Removes every data file of the page (a new chain starts). */
export async function removeChunkFiles(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (name === INDEX_FILE || /^frames-\d+\.js$/.test(name)) await rm(join(dir, name), { force: true });
  }
}
