/**
 * Child process for concurrent.test.ts: appends `count` events to a new event file in `logdir`
 * with short pauses, printing the file's path first. Event i has step i and a text payload
 * whose length varies from a few bytes to ~200 KB, so some records span many pages and a
 * reader is likely to catch one half-written.
 */
import { SummaryWriter } from '../../../src/tensorboard/index.ts';

export function payloadFor(step: number): string {
  const length = (step * 7919) % 13 === 0 ? 200_000 : (step * 104729) % 5000;
  return String(step % 10).repeat(length);
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isMain) {
  const [logdir, countText] = process.argv.slice(2);
  const writer = new SummaryWriter(logdir!);
  process.stdout.write(`${writer.events.path}\n`);
  const count = Number(countText);
  for (let step = 0; step < count; step++) {
    writer.text('payload', payloadFor(step), step);
    // Short pauses give the reader many chances to look at the file between writes.
    if (step % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 3));
  }
  await writer.close();
}
