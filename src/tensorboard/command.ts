/**
 * The one `tensorboard` command line this project recommends (README, and the lines `train`,
 * `watch`, `demo` and `inspect` print). Measured with TensorBoard 2.21:
 * - `--samples_per_plugin=images=0` serves no images at all (its data provider keeps k = 0);
 *   without the flag it keeps 10 images per tag and the t-SNE slider loses frames. A large k
 *   keeps every frame.
 * - `--samples_per_plugin=images=N` and `--samples_per_plugin images=N` are both accepted.
 */

/** Images kept per tag: far more frames than any run makes. */
export const IMAGES_KEPT_PER_TAG = 100_000;

/** The flags after `--logdir DIR`, one argument each. */
export const TENSORBOARD_FLAGS: readonly string[] = [`--samples_per_plugin=images=${IMAGES_KEPT_PER_TAG}`];

/** A word a POSIX shell reads back unchanged: quoted only when it has to be. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** `tensorboard --logdir logs --samples_per_plugin=images=100000`, ready to paste into a shell. */
export function tensorboardCommand(logdir: string): string {
  return ['tensorboard', '--logdir', shellWord(logdir), ...TENSORBOARD_FLAGS].join(' ');
}
