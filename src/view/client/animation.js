// Moving between frames: an eased transition from where the points are now to a frame, and
// playback (hold on each frame, then on to the next; start over after the last).
import { app, $, emit } from './state.js';

const SPEEDS = { 0.5: 0.5, 1: 1, 2: 2, 4: 4 };
const TRANSITION_MS = 700; // at speed 1: long enough for the eye to follow a point
const HOLD_MS = 350; // pause on each frame while playing, at speed 1

export function speed() {
  return SPEEDS[$('speed').value] || 1;
}

export function ease(t) {
  return t < 0.5 ? 4 * t * t * t : 1 - Math.pow(-2 * t + 2, 3) / 2;
}

export function goTo(index, instant) {
  const frames = app.frames;
  if (frames.length === 0) return;
  index = Math.max(0, Math.min(frames.length - 1, index));
  if (instant) {
    app.current.set(frames[index].positions);
    app.transition = null;
  } else {
    app.transition = {
      from: Float32Array.from(app.current),
      to: index,
      start: performance.now(),
      duration: TRANSITION_MS / speed(),
    };
  }
  app.frameIndex = index;
  emit('step');
}

export function stepTransition(now) {
  const transition = app.transition;
  if (!transition) return;
  const target = app.frames[transition.to].positions;
  const t = Math.min(1, (now - transition.start) / transition.duration);
  const e = ease(t);
  const from = transition.from;
  const current = app.current;
  for (let i = 0; i < current.length; i++) current[i] = from[i] + (target[i] - from[i]) * e;
  if (t >= 1) {
    app.transition = null;
    app.holdUntil = now + HOLD_MS / speed();
  }
  app.dirty = true;
}

export function setPlaying(on) {
  app.playing = on && app.frames.length > 1;
  $('play').textContent = app.playing ? 'Pause' : 'Play';
  if (app.playing && !app.transition) {
    app.holdUntil = 0;
    if (app.frameIndex === app.frames.length - 1) goTo(0);
  }
}

export function advancePlayback(now) {
  if (!app.playing || app.transition || now < app.holdUntil) return;
  if (app.frameIndex >= app.frames.length - 1) {
    // Hold on the last frame a little longer, then start over.
    if (now < app.holdUntil + (2 * HOLD_MS) / speed()) return;
    goTo(0);
    return;
  }
  goTo(app.frameIndex + 1);
}

export function resetHold() {
  app.holdUntil = 0;
}
