/** Each frame's aligned positions (`frames/step-N.tsv`, the next frame's start) and picture (PNG). */
import { writeFileAtomic } from '../../util/atomic.ts';
import { frameToTsv } from '../state.ts';
import type { SinkSpec } from './sink.ts';

export const frameFilesSink: SinkSpec = {
  point: 'files',
  async open({ layout }) {
    return {
      async write(frame) {
        await writeFileAtomic(layout.frameFile(frame.step), frameToTsv(frame.positions));
        await writeFileAtomic(layout.imageFile(frame.step), frame.png);
      },
      async close() {},
    };
  },
};
