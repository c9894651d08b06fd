/**
 * What the watcher tells the user: one line per event for people, or (with `--json`) one JSON
 * object per line, each with an `event` field, for scripts and benchmarks.
 */
import { stepLabel } from '../layout.ts';
import { MEASURES, MEASURE_NAMES, type FrameMeasures } from './record.ts';

export const STAGES = ['load', 'embed', 'tsne', 'align', 'measure', 'render', 'write'] as const;
export type Stage = (typeof STAGES)[number];
export type StageSeconds = Record<Stage, number> & { total: number };

/** A frame as reported: its record's measures, and where the time went. */
export interface FrameReport extends FrameMeasures {
  /** The chain's name (the run, and the tag when it has one). */
  run: string;
  step: number;
  points: number;
  seconds: StageSeconds;
  accuracy: number | null;
  image: string;
}

export interface Reporter {
  info(message: string, fields?: Record<string, unknown>): void;
  /** A frame's work begins (NDJSON only: people see the frame's line when it is done). */
  started(run: string, step: number, checkpoint: string): void;
  frame(report: FrameReport): void;
  skipped(run: string, step: number, reason: string): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

type Write = (line: string) => void;

const stdoutLine: Write = (line) => process.stdout.write(`${line}\n`);
const stderrLine: Write = (line) => process.stderr.write(`${line}\n`);

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : String(value);
}

/** Human-readable lines: progress on stdout, problems on stderr. */
export function textReporter(out: Write = stdoutLine, err: Write = stderrLine): Reporter {
  return {
    info: (message) => out(message),
    started: () => undefined,
    frame: (r) => {
      const stages = STAGES.map((s) => `${s} ${fixed(r.seconds[s], 2)}s`).join('  ');
      const accuracy = r.accuracy === null ? '' : `  acc ${(100 * r.accuracy).toFixed(1)}%`;
      const measures = MEASURE_NAMES.filter((name) => MEASURES[name].short !== '')
        .map((name) => `${MEASURES[name].short} ${fixed(r[name], MEASURES[name].digits)}`)
        .join('  ');
      out(`${r.run} step ${stepLabel(r.step)}: ${fixed(r.seconds.total, 2)}s (${stages})  ${measures}${accuracy}`);
    },
    skipped: (run, step, reason) => err(`skipped ${run} step ${stepLabel(step)}: ${reason}`),
    error: (message) => err(message),
  };
}

/** NDJSON on stdout, one object per event. */
export function jsonReporter(out: Write = stdoutLine): Reporter {
  const emit = (event: string, fields: Record<string, unknown>) =>
    out(JSON.stringify({ event, time: new Date().toISOString(), ...fields }));
  return {
    info: (message, fields = {}) => emit('info', { message, ...fields }),
    started: (run, step, checkpoint) => emit('frame-start', { run, step, checkpoint }),
    frame: (report) => emit('frame', { ...report }),
    skipped: (run, step, reason) => emit('skipped', { run, step, reason }),
    error: (message, fields = {}) => emit('error', { message, ...fields }),
  };
}
