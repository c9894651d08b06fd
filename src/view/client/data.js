// Decoding the page's data: the header in the page, and chunks of frames (quantised positions)
// from the script files beside it. Frames are kept in data units, sorted by step.
import { app, emit } from './state.js';

const QUANT_MAX = 65535;

export function decodeBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function decodeUint32(text) {
  const bytes = decodeBase64(text);
  const out = new Uint32Array(bytes.length / 4);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < out.length; i++) out[i] = dv.getUint32(4 * i, true);
  return out;
}

/** Quantised codes (little-endian Uint16, x and y interleaved) to positions in data units. */
export function decodePositions(text, bounds) {
  const bytes = decodeBase64(text);
  const dv = new DataView(bytes.buffer);
  const out = new Float32Array(bytes.length / 2);
  const scaleX = (bounds.maxX - bounds.minX) / QUANT_MAX;
  const scaleY = (bounds.maxY - bounds.minY) / QUANT_MAX;
  for (let i = 0; i < out.length; i += 2) {
    out[i] = bounds.minX + dv.getUint16(2 * i, true) * scaleX;
    out[i + 1] = bounds.minY + dv.getUint16(2 * i + 2, true) * scaleY;
  }
  return out;
}

/** A new header: a new chain of frames (or the first), so every frame is dropped. */
export function setHeader(header) {
  app.header = header;
  app.count = header.count;
  app.labels = decodeBase64(header.labels);
  app.testIndices = decodeUint32(header.testIndices);
  app.frames = [];
  app.extent = null;
  app.current = new Float32Array(2 * header.count);
  app.frameIndex = 0;
  app.transition = null;
  app.hovered = -1;
  app.pinned = -1;
  emit('header');
}

function grow(extent, positions) {
  const box = extent || { minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity };
  for (let i = 0; i < positions.length; i += 2) {
    const x = positions[i];
    const y = positions[i + 1];
    if (x < box.minX) box.minX = x;
    if (x > box.maxX) box.maxX = x;
    if (y < box.minY) box.minY = y;
    if (y > box.maxY) box.maxY = y;
  }
  return box;
}

/** Adds a chunk's frames to `store` (app, or a compared run): decoded, kept sorted by step. */
export function mergeChunk(store, chunk) {
  chunk.steps.forEach((step, k) => {
    const positions = decodePositions(chunk.frames[k], chunk.bounds);
    app.decodedFrames++;
    const prediction = chunk.predictions && chunk.predictions[k];
    const metrics = {};
    for (const key of Object.keys(chunk.metrics || {})) metrics[key] = chunk.metrics[key][k];
    const frame = { step, positions, predictions: prediction ? decodeBase64(prediction) : null, metrics };
    store.extent = grow(store.extent, positions);
    const at = store.frames.findIndex((f) => f.step >= step);
    if (at < 0) store.frames.push(frame);
    else if (store.frames[at].step === step) store.frames[at] = frame;
    else store.frames.splice(at, 0, frame);
  });
}

/** Adds a chunk of this page's frames (a step already shown is replaced); returns how many. */
export function addChunk(chunk) {
  if (!app.header || chunk.chain !== app.header.chain) return 0;
  const wasAtEnd = app.frames.length > 0 && app.frameIndex === app.frames.length - 1;
  const hadFrames = app.frames.length > 0;
  mergeChunk(app, chunk);
  if (!hadFrames && app.frames.length > 0) app.current.set(app.frames[0].positions);
  app.version++;
  emit('frames', { wasAtEnd, hadFrames });
  return chunk.steps.length;
}

/** Images the model had seen at a frame: its `samplesSeen` when the page has it, else its step. */
export function imagesSeen(frame) {
  const seen = frame.metrics.samplesSeen;
  return typeof seen === 'number' ? seen : frame.step;
}
