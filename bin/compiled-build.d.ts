/** The folder builds are kept in, for the package at `root`. */
export function defaultBuildCache(root: string): string;
/**
 * The file URL of the compiled command (`cli.js`) for the sources under `root`/src: the kept build
 * when one matches them, else a new one; undefined when none could be made or kept.
 */
export function compiledCommand(root: string, cache?: string): Promise<string | undefined>;
/** The files a build is made of (the .ts files under src/, bin's .js files), absolute, in a stable order. */
export function buildSources(root: string): string[];
/** Names the sources as they are now (each file's path, size and modification time, and more). */
export function buildKey(root: string, sources: string[]): string;
