/**
 * The outputs of a chain, in the order they are written. Adding an output is one file in this
 * folder and one line here.
 */
import { eventsSink } from './events.ts';
import { frameFilesSink } from './frame-files.ts';
import { gifSink } from './gif.ts';
import { pageSink } from './page.ts';
import { projectorSink } from './projector.ts';
import type { SinkSpec } from './sink.ts';

export type { DrawnFrame, FrameSink, SinkContext, SinkSpec, WritePoint } from './sink.ts';

/** Written for every frame before the record is committed (state.json, the commit point). */
export const FRAME_SINKS: readonly SinkSpec[] = [frameFilesSink, projectorSink, gifSink, eventsSink];

/** Views of the record, written after every commit. */
export const RECORD_VIEWS: readonly SinkSpec[] = [pageSink];
