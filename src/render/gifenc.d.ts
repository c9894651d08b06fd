// The part of gifenc (no bundled types) the GIF writer uses: its LZW frame encoder.
declare module 'gifenc' {
  export interface GifEncoderStream {
    bytes(): Uint8Array;
  }
  export interface GifFrameOptions {
    first?: boolean;
    delay?: number;
    colorDepth?: number;
    dispose?: number;
    palette?: number[][] | null;
  }
  export interface GifEncoderInstance {
    writeFrame(index: Uint8Array, width: number, height: number, options?: GifFrameOptions): void;
    bytes(): Uint8Array;
  }
  // A function property, not a method: the writer takes it off the module object.
  const gifenc: { GIFEncoder: (options?: { auto?: boolean; initialCapacity?: number }) => GifEncoderInstance };
  export default gifenc;
}
