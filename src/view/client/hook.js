// The test hook: read-only, so tests and benchmarks can be exact. Bundled only into pages written
// for tests (EMBEDDING_TIMELAPSE_PAGE_HOOKS=1); a user's page has none of this.
import { app } from './state.js';
import { screenX, screenY } from './geometry.js';
import { draw, trailPoints } from './draw.js';
import { ease } from './animation.js';

export function installHook(extra) {
  const api = {
    get ready() {
      return app.ready === true;
    },
    get version() {
      return app.version;
    },
    get step() {
      return app.frames.length ? app.frames[app.frameIndex].step : null;
    },
    get frameIndex() {
      return app.frameIndex;
    },
    get frameCount() {
      return app.frames.length;
    },
    get steps() {
      return app.frames.map((f) => f.step);
    },
    get playing() {
      return app.playing;
    },
    get animating() {
      return app.transition !== null;
    },
    get hovered() {
      return app.hovered;
    },
    get pinned() {
      return app.pinned;
    },
    get highlight() {
      return app.highlight;
    },
    get isolate() {
      return app.isolate;
    },
    get lastFrameMs() {
      return app.lastFrameMs;
    },
    /** Frames decoded since the page opened (a live update decodes only the new ones). */
    get decodedFrames() {
      return app.decodedFrames;
    },
    /** Point i's position now, in page (client) coordinates. */
    pointScreen(i) {
      const rect = document.getElementById('scatter').getBoundingClientRect();
      return { x: rect.left + screenX(app.current[2 * i]), y: rect.top + screenY(app.current[2 * i + 1]) };
    },
    /** Point i's position in data units at frame k. */
    position(i, k) {
      const p = app.frames[k].positions;
      return [p[2 * i], p[2 * i + 1]];
    },
    get trailVertexCount() {
      return app.pinned >= 0 ? trailPoints(app.pinned).length : 0;
    },
    /** Draws the scatter `count` times at positions between two frames; returns ms per draw. */
    measureDraw(count) {
      const start = performance.now();
      const current = app.current;
      const saved = Float32Array.from(current);
      const a = app.frames[0].positions;
      const b = app.frames[app.frames.length - 1].positions;
      for (let k = 0; k < count; k++) {
        const e = ease((k + 1) / count);
        for (let i = 0; i < current.length; i++) current[i] = a[i] + (b[i] - a[i]) * e;
        draw();
      }
      current.set(saved);
      app.dirty = true;
      return (performance.now() - start) / count;
    },
  };
  for (const [name, get] of Object.entries(extra)) Object.defineProperty(api, name, { get, enumerable: true });
  window.timelapse = Object.freeze(api);
}
