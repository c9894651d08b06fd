// Recording the animation to WebM in the browser (canvas capture + MediaRecorder), for slides:
// from the first frame to the last at the speed chosen, saved as a download; a second click
// stops early. The GIF beside the page stays for places without video.
import { app, $, on } from './state.js';
import { goTo, setPlaying } from './animation.js';
import { download } from './export.js';

const FPS = 30;
let recorder = null;
let wasAtLast = false;

function mimeType() {
  for (const type of ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm']) {
    if (MediaRecorder.isTypeSupported(type)) return type;
  }
  return '';
}

function save(chunks, type) {
  download(chunks, type || 'video/webm', '-timelapse.webm');
}

export function stopRecording() {
  if (recorder && recorder.state !== 'inactive') recorder.stop();
}

export function startRecording() {
  if (recorder || app.frames.length < 2 || typeof MediaRecorder === 'undefined') return;
  const canvas = $('scatter');
  const stream = canvas.captureStream(FPS);
  const type = mimeType();
  const chunks = [];
  recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
  recorder.ondataavailable = (event) => event.data.size > 0 && chunks.push(event.data);
  recorder.onstop = () => {
    stream.getTracks().forEach((track) => track.stop());
    recorder = null;
    setPlaying(false);
    $('record').textContent = 'Record WebM';
    save(chunks, type);
  };
  goTo(0, true);
  app.dirty = true;
  wasAtLast = false;
  recorder.start(250);
  $('record').textContent = 'Stop recording';
  setPlaying(true);
}

export function installRecord() {
  const button = $('record');
  if (typeof MediaRecorder === 'undefined' || !HTMLCanvasElement.prototype.captureStream) {
    button.hidden = true;
    return;
  }
  button.addEventListener('click', () => (recorder ? stopRecording() : startRecording()));
  // One pass: stop once the last frame has been reached and held (playback then starts over).
  on('step', () => {
    if (!recorder) return;
    if (app.frameIndex === app.frames.length - 1) wasAtLast = true;
    else if (wasAtLast && app.frameIndex === 0) stopRecording();
  });
}
