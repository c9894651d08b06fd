/**
 * One helper thread of `TsneThreads`: waits on the shared doorbell, takes the command from its
 * message port, computes its share into shared memory and rings back. It never posts results:
 * everything it writes lives in the SharedArrayBuffers the parent handed over.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { attractRows } from './gradient.ts';
import { computeClaimedItems, ThreadGradient } from './work-items.ts';
import {
  awaitChange,
  buildClaimedTrees,
  calibrateClaimedRows,
  CONTROL,
  searchClaimedRows,
  type ThreadCommand,
} from './threads.ts';

const { port, control, index } = workerData as { port: MessagePort; control: Int32Array; index: number };

interface GradientState {
  thread: ThreadGradient;
  threadPartial: Float64Array;
}

let gradient: GradientState | undefined;
let generation = 0;
Atomics.add(control, CONTROL.ready, 1);
Atomics.notify(control, CONTROL.ready);
for (;;) {
  awaitChange(control, CONTROL.generation, generation);
  generation = Atomics.load(control, CONTROL.generation);
  const received = receiveMessageOnPort(port);
  if (received === undefined) continue;
  const command = received.message as ThreadCommand;
  if (command.kind === 'exit') break;
  try {
    run(command);
  } catch (error) {
    Atomics.store(control, CONTROL.failed, 1);
    console.error(`t-SNE helper thread ${index}: ${(error as Error)?.stack ?? String(error)}`);
  }
  Atomics.add(control, CONTROL.done, 1);
  Atomics.notify(control, CONTROL.done);
}
port.close();

function run(command: ThreadCommand): void {
  switch (command.kind) {
    case 'gradient-setup':
      gradient = { thread: new ThreadGradient(command.gradient), threadPartial: command.threadPartial };
      return;
    case 'gradient': {
      if (gradient === undefined) throw new Error('gradient before gradient-setup');
      const { exaggeration, theta, withLogTerm } = command;
      computeClaimedItems(gradient.thread, exaggeration, theta, withLogTerm);
      return;
    }
    case 'attractive': {
      if (gradient === undefined) throw new Error('attractive before gradient-setup');
      const { shared: g, attraction } = gradient.thread;
      const [from, to] = command.rows;
      attraction.setPositions(g.positions);
      const { exaggeration, withLogTerm } = command;
      gradient.threadPartial[index] = attractRows(
        attraction,
        g,
        g.positions,
        exaggeration,
        g.attractive,
        withLogTerm,
        from,
        to,
      );
      return;
    }
    case 'calibrate':
      calibrateClaimedRows(command);
      return;
    case 'forest':
      buildClaimedTrees(command);
      return;
    case 'knn':
      searchClaimedRows(command);
      return;
  }
}
