// The part of the WebAssembly API ./wasm.ts uses: TypeScript declares it only in its DOM and
// web-worker libraries, which this Node project does not load.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module);
    readonly exports: Record<string, unknown>;
  }
}
