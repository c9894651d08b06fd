/** Pictures of frames: the scatter plot (PNG), the animated GIF. */
export {
  renderScatter,
  drawScatter,
  renderScatterFrame,
  scatterLayout,
  type ScatterOptions,
  type RgbaImage,
} from './scatter.ts';
export {
  GifWriter,
  parseGif,
  encodeGifFrame,
  changedRegion,
  type Region,
  type GifInfo,
  type GifFrameInfo,
  type GifWriterOptions,
  type AppendResult,
} from './gif.ts';
export { CLASS_COLORS, GIF_PALETTE, indexPixels, type Rgb } from './palette.ts';
export { easeInOut, tweenPositions } from './tween.ts';
