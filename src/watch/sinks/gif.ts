/** The animation: each frame appended (with its in-between frames) unless the GIF has its step. */
import { gifPaletteFor } from '../../render/colors.ts';
import { GifWriter } from '../../render/index.ts';
import type { SinkSpec } from './sink.ts';

export const gifSink: SinkSpec = {
  point: 'gif',
  async open({ layout, points }) {
    // One colour table for the whole file: built from the chain's colours when they are not CIFAR-10's.
    const gif = new GifWriter(layout.gif, { palette: points.palette ? gifPaletteFor(points.palette) : undefined });
    return {
      async write(frame) {
        await gif.append(frame.image, frame.step, frame.tweens);
      },
      async close() {},
    };
  },
};
