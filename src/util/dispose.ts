/**
 * `await using` for things without a `[Symbol.asyncDispose]` of their own (tfjs models and
 * optimizers, a progress bar): `await using _model = disposing(() => model.dispose())` releases
 * the model on every way out of the block, in reverse order of declaration.
 */
export function disposing(release: () => unknown): AsyncDisposable {
  let released = false;
  return {
    async [Symbol.asyncDispose]() {
      if (released) return;
      released = true;
      await release();
    },
  };
}
