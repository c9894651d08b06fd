/**
 * `embedding-timelapse view`: serves the log directory on 127.0.0.1 so the runs' timelapse pages
 * can be opened in a browser, where they pick up each new frame as the watcher writes it.
 */
import { resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { checkLogDirectory } from '../util/directory.ts';
import { pageUrl } from '../view/comparable.ts';
import { isS3Url } from '../storage/index.ts';
import { StorageChains } from '../view/storage-source.ts';
import { createViewServer, listViewRuns, viewStorage } from '../view/server.ts';
import { intOption, parseCommand } from './args.ts';

const HELP = `usage: embedding-timelapse view [options]

Serves the log directory on http://127.0.0.1:PORT/ (this machine only, read only): a list of the
runs, and each run's timelapse page (<run>/embeddings/timelapse.html), which shows each new frame
as the watcher draws it, without reloading. Stop with Ctrl-C.
The same page also opens straight from disk, without this server (it then does not refresh).

options:
  --logdir DIR   log directory holding the runs (default: logs), or s3://bucket/prefix
                 (object storage; see docs/object-storage.md)
  --port N       port to listen on (default: 6007; 0 = any free port)
  -h, --help     show this help`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand('view', argv, {
    help: HELP,
    options: { logdir: { type: 'string' }, port: { type: 'string' } },
    objectStorage: ['logdir'],
  });
  if (args === null) return 0;
  const port = intOption('view', 'port', args.values.port, 6007, 0);
  if (port > 65535) throw new UserError(`view: --port must be 0 to 65535, got ${port}`);
  const given = args.values.logdir ?? 'logs';
  const storage = isS3Url(given) ? viewStorage(given) : undefined;
  const logdir = storage ? storage.root : resolve(given);
  if (!storage) await checkLogDirectory(logdir);
  // Before listening: a log directory that cannot be listed (a missing bucket, wrong credentials)
  // is one line now, not a 500 or 502 per request.
  const runs = storage ? await new StorageChains(storage).list() : await listViewRuns(logdir);

  const server = await createViewServer(storage ?? logdir, (line) => console.error(line));
  await new Promise<void>((done, fail) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        fail(
          new UserError(
            `view: port ${port} on 127.0.0.1 is in use (another view or TensorBoard?); pick another with --port`,
          ),
        );
      } else {
        fail(
          new UserError(`view: cannot listen on 127.0.0.1:${port} (${error.message}); pick another port with --port`),
        );
      }
    });
    server.listen(port, '127.0.0.1', done);
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  const base = `http://127.0.0.1:${bound}`;
  console.log(`serving ${logdir} at ${base}/ (Ctrl-C to stop)`);
  for (const runInfo of runs) {
    if (runInfo.hasPage) console.log(`  ${runInfo.name}: ${base}${pageUrl(runInfo.dir)}`);
  }

  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      server.close(() => done());
      server.closeAllConnections();
      // Nothing of ours needs flushing: whatever still holds the process (a stuck read of a
      // user's file) must not keep it from stopping.
      setTimeout(() => process.exit(0), 2000).unref();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
