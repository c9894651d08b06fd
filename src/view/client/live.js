// Loading frames: the chunk files beside the page are scripts (browsers refuse fetch on file://)
// that hand their data to window.timelapseChunk; page/index.js says how many there are. Through
// `view` (http) the page polls: a HEAD of the index (its ETag) and of the page itself; a new
// index costs a few bytes and each new chunk only its own frames.
import { app } from './state.js';
import { addChunk, setHeader } from './data.js';

const POLL_MS = 1500;
let loaded = 0;
let indexCallback = null;

window.timelapseChunk = (chunk) => addChunk(chunk);
window.timelapseIndex = (index) => indexCallback && indexCallback(index);

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

function chunkName(k) {
  return 'frames-' + String(k).padStart(6, '0') + '.js';
}

/** Loads the index, then every chunk not loaded yet; `version` defeats a cached index. */
async function loadNewChunks(version) {
  const dir = app.header.chunkDir;
  if (!dir) return;
  const index = await new Promise((resolve) => {
    indexCallback = resolve;
    void loadScript(dir + '/index.js' + (version ? '?v=' + encodeURIComponent(version) : '')).then((ok) => {
      if (!ok) resolve(null);
    });
  });
  indexCallback = null;
  if (!index || index.chain !== app.header.chain) return;
  const wanted = [];
  for (let k = loaded; k < index.chunks; k++) wanted.push(k);
  await Promise.all(wanted.map((k) => loadScript(dir + '/' + chunkName(k))));
  loaded = Math.max(loaded, index.chunks);
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
