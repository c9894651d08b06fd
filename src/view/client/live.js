// Loading frames: the chunk files beside the page are scripts (browsers refuse fetch on file://)
// that hand their data to window.timelapseChunk; page/index.js says how many there are, and
// page/header.js repeats the page's header for other pages (a run compared side by side).
// Through `view` (http) the page polls: a HEAD of the index (its ETag) and of the page itself; a
// new index costs a few bytes and each new chunk only its own frames.
import { app } from './state.js';
import { addChunk, setHeader } from './data.js';

const POLL_MS = 1500;
let loaded = 0;
/** Where each chain's chunks go (this page's to addChunk; a compared run's to its own store). */
const chunkTargets = new Map();
let indexCallback = null;
let headerCallback = null;

window.timelapseChunk = (chunk) => {
  const target = chunkTargets.get(chunk.chain);
  if (target) target(chunk);
  else if (app.header && chunk.chain === app.header.chain) addChunk(chunk);
};
window.timelapseIndex = (index) => indexCallback && indexCallback(index);
window.timelapseHeader = (header) => headerCallback && headerCallback(header);

function loadScript(src) {
  return new Promise((resolve) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = () => {
      script.remove();
      resolve(true);
    };
    script.onerror = () => {
      script.remove();
      resolve(false);
    };
    document.head.append(script);
  });
}

/**
 * Loads a script that calls one of the callbacks above; resolves with its argument (null: none).
 * One at a time: the callbacks are global, and this page's poll of its own index and a compared
 * run's index in flight together would each take the other's answer (or leave one waiting for
 * good). A script runs its callback before its load event, so a script that calls none, or
 * fails to load, resolves null.
 */
let calls = Promise.resolve();
function loadCall(src, setCallback) {
  const call = calls.then(async () => {
    const value = await new Promise((resolve) => {
      setCallback(resolve);
      void loadScript(src).then(() => resolve(null));
    });
    setCallback(null);
    return value;
  });
  calls = call.catch(() => null);
  return call;
}

function chunkName(k) {
  return 'frames-' + String(k).padStart(6, '0') + '.js';
}

/** The index of the chunk folder `dir`; `version` defeats a cached one. */
function loadIndex(dir, version) {
  const src = dir + '/index.js' + (version ? '?v=' + encodeURIComponent(version) : '');
  return loadCall(src, (callback) => (indexCallback = callback));
}

/** Loads the index, then every chunk not loaded yet. */
async function loadNewChunks(version) {
  const dir = app.header.chunkDir;
  if (!dir) return;
  const index = await loadIndex(dir, version);
  if (!index || index.chain !== app.header.chain) return;
  const wanted = [];
  for (let k = loaded; k < index.chunks; k++) wanted.push(k);
  await Promise.all(wanted.map((k) => loadScript(dir + '/' + chunkName(k))));
  loaded = Math.max(loaded, index.chunks);
}

/**
 * Another run's page data, from its embeddings folder (relative to this page): its header, then
 * every chunk, each handed to `onChunk`. Null when it has no data there.
 */
export async function loadOtherRun(embeddingsPath, onChunk) {
  const header = await loadCall(embeddingsPath + '/page/header.js', (callback) => (headerCallback = callback));
  if (!header || !header.chunkDir) return null;
  const dir = embeddingsPath + '/' + header.chunkDir;
  chunkTargets.set(header.chain, onChunk);
  const index = await loadIndex(dir, null);
  if (!index || index.chain !== header.chain) return header;
  const wanted = Array.from({ length: index.chunks }, (_, k) => k);
  await Promise.all(wanted.map((k) => loadScript(dir + '/' + chunkName(k))));
  return header;
}

/** The header block of a page's HTML (as the template writes it). */
function headerOf(html) {
  const match = /<script id="timelapse-data" type="application\/json">([\s\S]*?)<\/script>/.exec(html);
  return match ? JSON.parse(match[1]) : null;
}

export async function loadInitial(header) {
  setHeader(header);
  // A self-contained page carries its frames inline.
  if (header.frames) addChunk(header);
  await loadNewChunks(null);
}

async function etagOf(url) {
  const head = await fetch(url, { method: 'HEAD', cache: 'no-store' });
  return head.ok ? head.headers.get('etag') : null;
}

export function startPolling(onNewHeader) {
  if (location.protocol !== 'http:' && location.protocol !== 'https:') return;
  let pageTag = null;
  let indexTag = null;
  const poll = async () => {
    try {
      const tag = await etagOf(location.pathname);
      if (tag && tag !== pageTag) {
        // Changed, or the first poll: a new chain of frames starts over with its own header.
        const response = await fetch(location.pathname, { cache: 'no-store' });
        const header = response.ok ? headerOf(await response.text()) : null;
        pageTag = tag;
        if (header && header.chain !== app.header.chain) {
          loaded = 0;
          indexTag = null;
          setHeader(header);
          onNewHeader();
        }
      }
      const dir = app.header.chunkDir;
      if (dir) {
        const next = await etagOf(new URL(dir + '/index.js', location.href).pathname);
        if (next && next !== indexTag) {
          indexTag = next;
          await loadNewChunks(next);
        }
      }
    } catch {
      // The server may be restarting; try again at the next poll.
    } finally {
      setTimeout(() => void poll(), POLL_MS);
    }
  };
  void poll();
}
