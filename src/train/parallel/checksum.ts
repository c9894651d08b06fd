/**
 * A cheap fingerprint of a model's weights, bit for bit: the trainer compares its own with each
 * worker's to prove the replicas hold identical weights (every N steps in debug mode, and in
 * the tests). FNV-1a over the float32 bit patterns, two differently seeded lanes for 64 bits,
 * so that -0 vs 0 or two NaN payloads differ too.
 */
export function weightsChecksum(arrays: Iterable<Float32Array>): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (const array of arrays) {
    const bits = new Uint32Array(array.buffer, array.byteOffset, array.length);
    for (let i = 0; i < bits.length; i++) {
      const word = bits[i]!;
      a = Math.imul(a ^ word, 0x01000193);
      b = Math.imul(b ^ ((word >>> 16) | (word << 16)), 0x01000193);
    }
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
