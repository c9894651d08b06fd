/**
 * A folder of files that is complete only once its manifest exists: the manifest is written last
 * and names every file with its size and SHA-256. On object storage there is no rename of a
 * finished temporary folder, so this is how a reader tells a checkpoint still being uploaded from
 * a finished one, and a damaged file from a good one.
 *
 * Writers either hand over the bytes (`writeWithManifest`) or write their files their own way
 * and then seal the folder with one call (`sealWithManifest`, which reads them back once).
 */
import { createHash } from 'node:crypto';
import { TransientError, UserError } from '../errors.ts';
import { checkKey, isObjectNotFound, joinKey, type Storage } from './storage.ts';

export const MANIFEST_NAME = 'manifest.json';
const MANIFEST_VERSION = 1;

export interface ManifestEntry {
  /** Relative to the folder, '/'-separated. */
  name: string;
  size: number;
  /** Lowercase hex. */
  sha256: string;
}

export interface Manifest {
  version: number;
  files: ManifestEntry[];
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function entryFor(name: string, data: Uint8Array): ManifestEntry {
  return { name, size: data.byteLength, sha256: sha256(data) };
}

async function writeManifest(storage: Storage, folder: string, files: ManifestEntry[]): Promise<Manifest> {
  const manifest: Manifest = { version: MANIFEST_VERSION, files };
  await storage.write(joinKey(folder, MANIFEST_NAME), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function checkNames(storage: Storage, folder: string, names: string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    checkKey(joinKey(folder, name), storage.root);
    if (name === MANIFEST_NAME || seen.has(name)) {
      throw new UserError(
        `cannot write ${storage.location(joinKey(folder, name))}: the name is used twice or is the manifest's`,
      );
    }
    seen.add(name);
  }
}

/** Writes each file as a whole object, then the manifest naming them all. */
export async function writeWithManifest(
  storage: Storage,
  folder: string,
  files: ReadonlyMap<string, Uint8Array>,
): Promise<Manifest> {
  checkNames(storage, folder, [...files.keys()]);
  const entries: ManifestEntry[] = [];
  for (const [name, data] of files) {
    await storage.write(joinKey(folder, name), data);
    entries.push(entryFor(name, data));
  }
  return writeManifest(storage, folder, entries);
}

/**
 * Seals a folder whose files are already written: reads each named file back, then writes the
 * manifest. The sums are of what is stored, so a reader's check covers the upload too.
 */
export async function sealWithManifest(storage: Storage, folder: string, names: readonly string[]): Promise<Manifest> {
  checkNames(storage, folder, [...names]);
  const entries: ManifestEntry[] = [];
  for (const name of names) entries.push(entryFor(name, await storage.read(joinKey(folder, name))));
  return writeManifest(storage, folder, entries);
}

function parseManifest(data: Buffer, where: string): Manifest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString());
  } catch {
    throw new UserError(`${where}: not valid JSON; the folder is damaged, write it again or use another one`);
  }
  const manifest = parsed as Partial<Manifest>;
  const valid =
    manifest.version === MANIFEST_VERSION &&
    Array.isArray(manifest.files) &&
    manifest.files.every(
      (entry: Partial<ManifestEntry>) =>
        typeof entry?.name === 'string' &&
        Number.isSafeInteger(entry.size) &&
        typeof entry.sha256 === 'string' &&
        /^[0-9a-f]{64}$/.test(entry.sha256),
    );
  if (!valid) {
    throw new UserError(
      `${where}: not a manifest of version ${MANIFEST_VERSION} (files with name, size, sha256); ` +
        'the folder is damaged or written by a newer version',
    );
  }
  return manifest as Manifest;
}

/** The manifest, or undefined while the folder is not complete. */
export async function readManifest(storage: Storage, folder: string): Promise<Manifest | undefined> {
  const key = joinKey(folder, MANIFEST_NAME);
  try {
    return parseManifest(await storage.read(key), storage.location(key));
  } catch (error) {
    if (isObjectNotFound(error)) return undefined;
    throw error;
  }
}

/** True once the folder's manifest exists (it is written last). */
export async function isComplete(storage: Storage, folder: string): Promise<boolean> {
  return storage.exists(joinKey(folder, MANIFEST_NAME));
}

/**
 * Every file the manifest names, each checked against its size and SHA-256. A folder without a
 * manifest is not finished yet: a `TransientError`, to be tried again later. A file that is
 * missing or does not match is a `UserError` naming it.
 */
export async function readWithManifest(storage: Storage, folder: string): Promise<Map<string, Buffer>> {
  const manifest = await readManifest(storage, folder);
  const where = storage.location(folder === '' ? MANIFEST_NAME : folder);
  if (!manifest) {
    throw new TransientError(`${where} is not complete yet (no ${MANIFEST_NAME}); it is read once its writer finishes`);
  }
  checkNames(
    storage,
    folder,
    manifest.files.map((entry) => entry.name),
  );
  const files = new Map<string, Buffer>();
  for (const entry of manifest.files) {
    const key = joinKey(folder, entry.name);
    let data: Buffer;
    try {
      data = await storage.read(key);
    } catch (error) {
      if (!isObjectNotFound(error)) throw error;
      throw new UserError(
        `${storage.location(key)}: named in ${MANIFEST_NAME} but missing; the folder is damaged, use another one`,
      );
    }
    const found = entryFor(entry.name, data);
    if (found.size !== entry.size || found.sha256 !== entry.sha256) {
      throw new UserError(
        `${storage.location(key)}: ${found.size} bytes with SHA-256 ${found.sha256.slice(0, 12)}…, ` +
          `but ${MANIFEST_NAME} says ${entry.size} bytes with ${entry.sha256.slice(0, 12)}…; ` +
          'the file is damaged, use another checkpoint',
      );
    }
    files.set(entry.name, data);
  }
  return files;
}
