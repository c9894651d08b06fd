/**
 * Where the CIFAR-10 data comes from: the `--data` flag, else `CIFAR10_PATH`, else the
 * project's git-ignored cache, else the copy bundled beside the checkout
 * (`../shared/data/cifar-10-binary.tar.gz`, what the development machines and CI have), else
 * the official archive downloaded into the cache.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CIFAR10_ARCHIVE_NAME, downloadCifar10, type DownloadOptions } from './download.ts';

/** The package root (two levels above this file), so the cache does not depend on the cwd. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `<package root>/.cache/cifar10/`, git-ignored. */
export const DEFAULT_CACHE_DIR = join(PACKAGE_ROOT, '.cache', 'cifar10');

/**
 * The CIFAR-10 copy laid beside the checkout on machines without internet access (2 of the 5
 * training batches and the whole test set), so `npm run demo` works there with no setup.
 */
export const BUNDLED_ARCHIVE = join(PACKAGE_ROOT, '..', 'shared', 'data', CIFAR10_ARCHIVE_NAME);

/** The archive path inside a cache directory. */
export function cachedArchivePath(cacheDir = DEFAULT_CACHE_DIR): string {
  return join(cacheDir, CIFAR10_ARCHIVE_NAME);
}

/**
 * The data location to use: `flag` (from `--data`), else `env.CIFAR10_PATH`, else the cached
 * archive path (which may not exist yet: `ensureCifarSource` or `loadCifar10` downloads it).
 * Relative paths are resolved against the current directory. Does not touch the file system.
 */
export function resolveCifarSource(
  flag?: string,
  env: NodeJS.ProcessEnv = process.env,
  cacheDir = DEFAULT_CACHE_DIR,
): string {
  if (flag !== undefined && flag !== '') return resolve(flag);
  const fromEnv = env.CIFAR10_PATH;
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  return cachedArchivePath(cacheDir);
}

/** True for the cache's archive path, the one location the program may download into. */
export function isCachedArchive(source: string, cacheDir = DEFAULT_CACHE_DIR): boolean {
  return resolve(source) === cachedArchivePath(cacheDir);
}

export interface EnsureSourceOptions {
  env?: NodeJS.ProcessEnv;
  cacheDir?: string;
  download?: DownloadOptions;
  /** A local copy to use before downloading; by default the bundled one when the cache is the default. */
  bundled?: string;
}

/**
 * Like `resolveCifarSource`, and when the answer is the cache and the archive is not there yet,
 * takes the bundled copy if there is one, else downloads the archive (progress bar on stderr, MD5 checked, written
 * atomically). A `--data` or
 * `CIFAR10_PATH` location is returned as is; `loadCifar10` reports it if it does not exist.
 */
export async function ensureCifarSource(flag?: string, options: EnsureSourceOptions = {}): Promise<string> {
  const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR;
  const source = resolveCifarSource(flag, options.env ?? process.env, cacheDir);
  if (isCachedArchive(source, cacheDir) && !(await exists(source))) {
    const bundled = options.bundled ?? (options.cacheDir === undefined ? BUNDLED_ARCHIVE : undefined);
    if (bundled !== undefined && (await exists(bundled))) return bundled;
    await downloadCifar10(source, options.download);
  }
  return source;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
