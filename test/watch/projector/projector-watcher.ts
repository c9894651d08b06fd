/**
 * A watcher process with the fake projection stages and the projector source, for the crash
 * tests: `KILL_AT=<step>:<point>` makes it SIGKILL itself when frame <step> reaches <point> (a
 * stage as it starts, or a write point after it is done), exactly like `kill -9`.
 *
 * usage: tsx projector-watcher.ts <logdir>
 */
import { Watcher } from '../../../src/watch/daemon.ts';
import { jsonReporter } from '../../../src/watch/report.ts';
import { projectorSource } from '../../../src/watch/sources/projector.ts';
import { fakeStages } from '../helpers/fake-stages.ts';

const [logdir] = process.argv.slice(2);
const [killStep, killPoint] = (process.env.KILL_AT ?? ':').split(':');
const maybeKill = (step: number, point: string) => {
  if (String(step) === killStep && point === killPoint) process.kill(process.pid, 'SIGKILL');
};

const watcher = new Watcher({
  logdir: logdir!,
  once: true,
  settings: { valSize: 200, seed: 0, perplexity: 30 },
  stages: fakeStages(),
  reporter: jsonReporter(),
  gifTween: 2,
  moreSources: () => [projectorSource({ settleSeconds: 0, log: () => undefined })],
  onStage: (_run, step, stage) => maybeKill(step, stage),
  onWritten: (_run, step, what) => maybeKill(step, what),
});
await watcher.run();
