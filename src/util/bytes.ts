/** The bytes of several buffers or typed arrays (any element type), one after the other, in a new array. */
export function concatBytes(parts: readonly (ArrayBuffer | ArrayBufferView)[]): Uint8Array {
  const views = parts.map((p) =>
    p instanceof ArrayBuffer ? new Uint8Array(p) : new Uint8Array(p.buffer, p.byteOffset, p.byteLength),
  );
  const out = new Uint8Array(views.reduce((sum, v) => sum + v.byteLength, 0));
  let offset = 0;
  for (const view of views) {
    out.set(view, offset);
    offset += view.byteLength;
  }
  return out;
}
