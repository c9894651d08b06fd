// The command's TypeScript compiled once and kept, so that a run loads plain JavaScript.
//
// Why: running the sources through tsx costs every process about 0.2 s before its first line (a
// loader thread, tsx itself, every module resolved and loaded through its hooks) and every worker
// thread as much again; a whole 2,000-point `tsne` frame takes 0.5 s. So the first run after a
// change bundles src/cli.ts and the worker entries (`*-entry.ts`) with esbuild (shared code split
// into chunks, packages left to Node) into node_modules/.cache/embedding-timelapse/<key>/, in about
// 0.2 s; the key names every source file's path, size and modification time, so an edited source
// gets a new build on the next run. Where no build can be made or kept (a syntax error, a
// read-only install) the command runs the sources through tsx, as it did before, and tsx reports a
// syntax error as it always has. EMBEDDING_TIMELAPSE_FROM_SOURCES=1 asks for the sources.
//
// Each module's `import.meta.url` (and `dirname`, `filename`) is replaced by its source file's, so
// every file a module finds beside itself (WebAssembly kernels, protos, the player's client) is
// found where it is in the checkout. Plain JavaScript: it runs before tsx could load.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Changed when the build's layout changes, so that builds of an older layout are not used. */
const BUILD_LAYOUT = 1;
/** Builds not used for this long are removed when a new one is made. */
const UNUSED_BUILD_MS = 7 * 24 * 3600 * 1000;
/** A temporary folder older than this is a build that was interrupted. */
const ABANDONED_BUILD_MS = 3600 * 1000;

/** The folder builds are kept in, for the package at `root`. */
export function defaultBuildCache(root) {
  return join(root, 'node_modules', '.cache', 'embedding-timelapse');
}

/**
 * The file URL of the compiled command (`cli.js`) for the sources under `root`/src: the kept
 * build when one matches them, else a new one; undefined when none could be made or kept.
 */
export async function compiledCommand(root, cache = defaultBuildCache(root)) {
  if (process.env.EMBEDDING_TIMELAPSE_FROM_SOURCES === '1') return undefined;
  let sources;
  let folder;
  try {
    sources = buildSources(root);
    folder = join(cache, buildKey(root, sources));
    if (existsSync(join(folder, 'cli.js'))) {
      markUsed(folder);
      return pathToFileURL(join(folder, 'cli.js')).href;
    }
  } catch {
    return undefined;
  }
  try {
    await build(root, sources, folder);
  } catch {
    return undefined;
  }
  removeOldBuilds(cache, folder);
  return pathToFileURL(join(folder, 'cli.js')).href;
}

/**
 * The files a build is made of, as absolute paths in a stable order: every `.ts` file under src/
 * and the plain JavaScript of bin/ (src/cli.ts imports bin/out-of-memory.js).
 */
export function buildSources(root) {
  const filesUnder = (dir, extension) =>
    readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith(extension) && !entry.name.endsWith('.d.ts'))
      .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
  return [...filesUnder('src', '.ts'), ...(existsSync(join(root, 'bin')) ? filesUnder('bin', '.js') : [])].sort();
}

/**
 * Names the sources as they are now: each file's path, size and modification time (this file is
 * one of bin/'s), with the package's place (the build holds absolute paths), Node's version
 * (esbuild compiles for it) and the installed packages (package-lock.json).
 */
export function buildKey(root, sources) {
  const hash = createHash('sha256');
  hash.update(`${BUILD_LAYOUT}\n${root}\n${process.version}\n`);
  const stamp = (path) => {
    const { size, mtimeMs } = statSync(path);
    hash.update(`${relative(root, path)} ${size} ${mtimeMs}\n`);
  };
  for (const path of [join(root, 'package-lock.json'), ...sources]) {
    if (existsSync(path)) stamp(path);
  }
  return hash.digest('hex').slice(0, 20);
}

/** Compiles into a temporary folder and renames it to `folder`: a build is there whole or not at all. */
async function build(root, sources, folder) {
  const { build: esbuild } = await import('esbuild');
  const sourceDir = join(root, 'src');
  const temporary = `${folder}.tmp-${process.pid}-${Date.now()}`;
  const entryPoints = sources.filter((path) => path === join(sourceDir, 'cli.ts') || path.endsWith('-entry.ts'));
  try {
    await esbuild({
      entryPoints,
      outbase: sourceDir,
      outdir: temporary,
      bundle: true,
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node}`,
      packages: 'external',
      sourcemap: 'linked',
      sourcesContent: false,
      logLevel: 'silent',
      // Read by startTypeScriptWorker (src/util/typescript-worker.ts) to start the compiled entries.
      define: { EMBEDDING_TIMELAPSE_BUILD: JSON.stringify(pathToFileURL(folder + '/').href) },
      plugins: [sourceLocations(sourceDir)],
    });
    renameSync(temporary, folder);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    // Another run made the same build at the same time: use that one.
    if (!existsSync(join(folder, 'cli.js'))) throw error;
  }
}

/** An esbuild plugin: each source's `import.meta.url`, `.dirname` and `.filename` become its own. */
function sourceLocations(sourceDir) {
  const escaped = sourceDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return {
    name: 'source-locations',
    setup(builder) {
      builder.onLoad({ filter: new RegExp(`^${escaped}/.*\\.ts$`) }, ({ path }) => {
        const location = { url: pathToFileURL(path).href, dirname: dirname(path), filename: path };
        const contents = readFileSync(path, 'utf8').replace(/\bimport\.meta\.(url|dirname|filename)\b/g, (_, part) =>
          JSON.stringify(location[part]),
        );
        return { contents, loader: 'ts' };
      });
    },
  };
}

/** The build's time of last use, which `removeOldBuilds` goes by. */
function markUsed(folder) {
  try {
    const now = new Date();
    utimesSync(folder, now, now);
  } catch {
    // Only its removal after a week unused depends on it.
  }
}

/**
 * Removes interrupted builds and builds no run has started from for a week. (A process started
 * from a build that is then removed could no longer start its worker threads; a week of disuse
 * makes that a watcher left running that long while its sources changed.)
 */
function removeOldBuilds(cache, current) {
  let names;
  try {
    names = readdirSync(cache);
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of names) {
    const path = join(cache, name);
    if (path === current) continue;
    try {
      const age = now - statSync(path).mtimeMs;
      if (age > (name.includes('.tmp-') ? ABANDONED_BUILD_MS : UNUSED_BUILD_MS)) {
        rmSync(path, { recursive: true, force: true });
      }
    } catch {
      // A folder another run removed first, or one we may not remove: left.
    }
  }
}
