/**
 * A watcher process with the fake stages, for the crash tests: `KILL_AT=<step>:<point>` makes it
 * SIGKILL itself when frame <step> reaches <point> (a stage name as it starts, or a write point
 * after it is done): no exit handlers, no flushing, exactly like `kill -9`.
 *
 * usage: tsx fake-watcher.ts <logdir> <val-size> [run]
 */
import { Watcher } from '../../../src/watch/daemon.ts';
import { jsonReporter } from '../../../src/watch/report.ts';
import { fakeStages } from './fake-stages.ts';

const [logdir, valSize, run] = process.argv.slice(2);
const [killStep, killPoint] = (process.env.KILL_AT ?? ':').split(':');
const maybeKill = (step: number, point: string) => {
  if (String(step) === killStep && point === killPoint) process.kill(process.pid, 'SIGKILL');
};

const watcher = new Watcher({
  logdir: logdir!,
  run,
  once: true,
  settings: { valSize: Number(valSize), seed: 0, perplexity: 30 },
  stages: fakeStages(),
  reporter: jsonReporter(),
  onStage: (_run, step, stage) => maybeKill(step, stage),
  onWritten: (_run, step, what) => maybeKill(step, what),
});
await watcher.run();
