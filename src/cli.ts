/**
 * The `embedding-timelapse` command: picks the subcommand and hands it the rest of the
 * arguments. Each subcommand's options live in `src/cli/<name>.ts`; the work lives in the
 * feature folders. User mistakes print one line; anything else prints its message and, with
 * DEBUG set, its stack.
 */
import { describeOutOfMemory } from '../bin/out-of-memory.js';
import { isTransientError, isUserError } from './errors.ts';

type Command = { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number | void> }> };

const commands: Record<string, Command> = {
  train: {
    summary: 'train the ResNet on CIFAR-10, logging to TensorBoard and writing checkpoints',
    load: () => import('./cli/train.ts'),
  },
  watch: {
    summary: 'turn every checkpoint into an aligned t-SNE frame (TensorBoard, PNG, GIF)',
    load: () => import('./cli/watch.ts'),
  },
  demo: {
    summary: 'train a small preset with a watcher beside it, then say where to look',
    load: () => import('./cli/demo.ts'),
  },
  view: {
    summary: "serve the log directory: each run's timelapse page, live as frames arrive",
    load: () => import('./cli/view.ts'),
  },
  tsne: {
    summary: 'project a TSV of embeddings to 2-D (optionally warm-started and aligned)',
    load: () => import('./cli/tsne.ts'),
  },
  inspect: {
    summary: 'list the runs, tags and steps of a TensorBoard log directory',
    load: () => import('./cli/inspect.ts'),
  },
  'export-onnx': {
    summary: 'export a checkpoint to an ONNX model (batch norm folded)',
    load: () => import('./cli/export-onnx.ts'),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return (
    `usage: embedding-timelapse <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun ` +
    `'embedding-timelapse <command> --help' for a command's options.`
  );
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  const command = commands[name];
  if (command === undefined) {
    console.error(
      `embedding-timelapse: unknown command '${name}'; the commands are ${Object.keys(commands).join(', ')} (see ` +
        `'embedding-timelapse --help')`,
    );
    return 2;
  }
  const module = await command.load();
  return (await module.run(rest)) ?? 0;
}

// `embedding-timelapse inspect logs | head` closes our stdout early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // A transient failure that reaches here (a file not yet readable, an S3 endpoint that stayed
  // away past its retries) is the user's to retry: one line too.
  if (isUserError(error) || isTransientError(error)) {
    console.error(`embedding-timelapse: ${error.message}`);
    process.exitCode = 2;
  } else if (describeOutOfMemory(error) !== undefined) {
    console.error(`embedding-timelapse: ${describeOutOfMemory(error)}`);
    process.exitCode = 2;
  } else {
    console.error(`embedding-timelapse: unexpected error: ${(error as Error)?.message ?? String(error)}`);
    if (process.env.DEBUG) console.error((error as Error)?.stack);
    else console.error('(set DEBUG=1 to see where it happened, and please report it)');
    process.exitCode = 1;
  }
}
