// The player's state, shared by its modules: one object, so every module sees the same values.
export const app = {
  header: null,
  count: 0,
  labels: null,
  testIndices: null,
  /** Sorted by step: { step, positions: Float32Array (data units), predictions, metrics }. */
  frames: [],
  /** The box around every frame's points, in data units. */
  extent: null,
  /** The positions on screen now (data units, interpolated between frames). */
  current: null,
  frameIndex: 0,
  /** { from: Float32Array, to: frame index, start, duration } while moving between frames. */
  transition: null,
  playing: false,
  holdUntil: 0,
  hovered: -1,
  pinned: -1,
  highlight: -1,
  isolate: -1,
  version: 0,
  decodedFrames: 0,
  lastFrameMs: 0,
  dirty: true,
};

/** The selected points: mask[i] = 1 when point i is selected. */
export const selection = { mask: null, count: 0, version: 0 };

export const $ = (id) => document.getElementById(id);

export const COLORS = JSON.parse($('timelapse-colors').textContent);

/** Things that must happen when the state changes in some way: modules subscribe by name. */
const listeners = new Map();

export function on(event, listener) {
  if (!listeners.has(event)) listeners.set(event, []);
  listeners.get(event).push(listener);
}

export function emit(event, detail) {
  for (const listener of listeners.get(event) || []) listener(detail);
  app.dirty = true;
}
