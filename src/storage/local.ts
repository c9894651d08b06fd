/**
 * The storage interface on a local folder. Whole writes are atomic the usual way (temporary
 * sibling, fsync, rename: util/atomic.ts). A conditional create publishes a finished temporary
 * file with link(), which fails when the name exists, so no reader ever sees a half-written one.
 */
import { link, open, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UserError, describeFsError } from '../errors.ts';
import { temporarySibling, writeFileAtomic, writeFileSynced } from '../util/atomic.ts';
import { makeDirectory } from '../util/directory.ts';
import { ObjectNotFoundError, checkKey, toBuffer, type ObjectInfo, type Storage } from './storage.ts';

/** Names util/atomic.ts gives temporary siblings, and our swap guards: never listed. */
const TEMPORARY_NAME = /^\..+\.\d+\.[0-9a-f]{8}\.tmp$|^\..+\.swap$/;
/** A swap guard older than this was left by a process that died between its two steps. */
const STALE_SWAP_MS = 30_000;

function code(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function etagOf(info: BigIntStats): string {
  return `${info.ino}-${info.size}-${info.mtimeNs}`;
}

export class LocalStorage implements Storage {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  location(key: string): string {
    return join(this.root, key);
  }

  private path(key: string): string {
    checkKey(key, this.root);
    return join(this.root, ...key.split('/'));
  }

  async read(key: string): Promise<Buffer> {
    const path = this.path(key);
    try {
      return await readFile(path);
    } catch (error) {
      if (code(error) === 'ENOENT') throw new ObjectNotFoundError(path);
      throw new UserError(describeFsError(error, 'read', path));
    }
  }

  async readRange(key: string, start: number, end?: number): Promise<Buffer> {
    const path = this.path(key);
    try {
      await using handle = await open(path, 'r');
      const size = (await handle.stat()).size;
      const stop = Math.min(end ?? size, size);
      if (start >= stop) return Buffer.alloc(0);
      const buffer = Buffer.allocUnsafe(stop - start);
      let filled = 0;
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, start + filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    } catch (error) {
      if (code(error) === 'ENOENT') throw new ObjectNotFoundError(path);
      throw new UserError(describeFsError(error, 'read', path));
    }
  }

  async write(key: string, data: Uint8Array | string): Promise<void> {
    await writeFileAtomic(this.path(key), data);
  }

  async createIfAbsent(key: string, data: Uint8Array | string): Promise<boolean> {
    const path = this.path(key);
    await makeDirectory(dirname(path));
    const temporary = temporarySibling(path);
    try {
      await writeFileSynced(temporary, toBuffer(data));
      await link(temporary, path);
      return true;
    } catch (error) {
      if (code(error) === 'EEXIST') return false;
      throw new UserError(describeFsError(error, 'write', path));
    } finally {
      await rm(temporary, { force: true }).catch(() => undefined);
    }
  }

  /**
   * Files have no compare-and-swap, so a guard file (created exclusively) keeps two replacers
   * of one object apart while each compares and renames.
   */
  async replaceIfUnchanged(key: string, data: Uint8Array | string, etag: string): Promise<boolean> {
    const path = this.path(key);
    const guard = join(dirname(path), `.${basename(path)}.swap`);
    if (!(await this.takeGuard(guard))) return false;
    try {
      const current = await this.stat(key);
      if (current?.etag !== etag) return false;
      await writeFileAtomic(path, data);
      return true;
    } finally {
      await unlink(guard).catch(() => undefined);
    }
  }

  private async takeGuard(guard: string): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await (await open(guard, 'wx')).close();
        return true;
      } catch (error) {
        if (code(error) !== 'EEXIST') throw new UserError(describeFsError(error, 'write', guard));
        const info = await stat(guard).catch(() => undefined);
        // Another replacer is between its compare and its rename: it wins, the caller lost.
        if (info && Date.now() - info.mtimeMs < STALE_SWAP_MS) return false;
        await unlink(guard).catch(() => undefined);
      }
    }
    return false;
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const found: ObjectInfo[] = [];
    await this.walk(folder, prefix, found);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private async walk(folder: string, prefix: string, found: ObjectInfo[]): Promise<void> {
    const path = folder === '' ? this.root : this.path(folder);
    let entries;
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch (error) {
      if (code(error) === 'ENOENT' || code(error) === 'ENOTDIR') return;
      throw new UserError(describeFsError(error, 'list', path));
    }
    for (const entry of entries) {
      if (TEMPORARY_NAME.test(entry.name)) continue;
      const key = folder === '' ? entry.name : `${folder}/${entry.name}`;
      // A folder can hold matching keys when it is a prefix of `prefix` or starts with it.
      if (entry.isDirectory()) {
        if (prefix.startsWith(`${key}/`) || key.startsWith(prefix)) await this.walk(key, prefix, found);
      } else if (key.startsWith(prefix)) {
        const info = await this.stat(key);
        if (info) found.push(info);
      }
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const path = this.path(key);
    let info: BigIntStats;
    try {
      info = await stat(path, { bigint: true });
    } catch (error) {
      if (code(error) === 'ENOENT' || code(error) === 'ENOTDIR') return undefined;
      throw new UserError(describeFsError(error, 'read', path));
    }
    if (!info.isFile()) return undefined;
    return { key, size: Number(info.size), modified: new Date(Number(info.mtimeMs)), etag: etagOf(info) };
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  async delete(key: string): Promise<void> {
    const path = this.path(key);
    try {
      await unlink(path);
    } catch (error) {
      if (code(error) === 'ENOENT') return;
      throw new UserError(describeFsError(error, 'delete', path));
    }
  }
}
