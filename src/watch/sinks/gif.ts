/** The animation: each frame appended (with its in-between frames) unless the GIF has its step. */
import { GifWriter } from '../../render/index.ts';
import type { SinkSpec } from './sink.ts';

export const gifSink: SinkSpec = {
  point: 'gif',
  async open({ layout }) {
    const gif = new GifWriter(layout.gif);
    return {
      async write(frame) {
        await gif.append(frame.image, frame.step, frame.tweens);
      },
      async close() {},
    };
  },
};
