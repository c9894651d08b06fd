/**
 * Ctrl-C and SIGTERM for the long-running commands: the first asks for a clean stop, a second
 * one for a quick exit.
 *
 * One Ctrl-C often arrives twice: the terminal sends SIGINT to the whole foreground process
 * group, and a parent that forwards signals (npm, the demo) sends it again. Those two come
 * within milliseconds, a person's second Ctrl-C much later, so a signal that follows the
 * first one within `SAME_SIGNAL_MS` is taken as the same one.
 */
export const SAME_SIGNAL_MS = 500;

export interface StopSignalHandlers {
  /** The first SIGINT or SIGTERM: finish what is in progress, then stop. */
  first(signal: NodeJS.Signals): void;
  /** A later one: stop now. */
  again(signal: NodeJS.Signals): void;
}

/** Routes SIGINT and SIGTERM to `handlers` until the returned function is called. */
export function onStopSignals(handlers: StopSignalHandlers, now: () => number = Date.now): () => void {
  let firstAt: number | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstAt === null) {
      firstAt = now();
      handlers.first(signal);
    } else if (now() - firstAt >= SAME_SIGNAL_MS) {
      handlers.again(signal);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (firstAt === null) return;
    // The echo of the first signal may still be on its way: it must not kill a process that is
    // about to exit cleanly. Any later signal ends it, as it would without a handler.
    const stoppedAt = firstAt;
    const afterRelease = () => {
      if (now() - stoppedAt >= SAME_SIGNAL_MS) process.exit(130);
    };
    process.on('SIGINT', afterRelease);
    process.on('SIGTERM', afterRelease);
  };
}
