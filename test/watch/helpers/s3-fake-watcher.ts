/**
 * A watcher of an s3:// log directory with the fake stages, for the crash and lease tests: a
 * fresh temporary working copy per process, like a watcher started on another machine.
 * `KILL_AFTER_PUT=<n>` makes it SIGKILL itself right after its n-th upload (lease writes not
 * counted), `KILL_AFTER_KEY=<text>` after its first upload of a key containing the text: no exit
 * handlers, nothing flushed, exactly like `kill -9`. `LIVE=1` keeps it running
 * (polling every `POLL_SECONDS`, default 0.2) instead of `--once`. `LEASE_TTL_MS` shortens leases,
 * `RELEASE_IDLE_MS` (default 1000) is how long an idle run keeps its lease, `CHAIN_IDLE_SECONDS`
 * (default 30) how long the daemon keeps an idle chain open. `HOLD_AFTER_KEY=<text>:<ms>`
 * waits that long after its first upload of a key containing the text (a test cuts the store away
 * meanwhile).
 *
 * usage: tsx s3-fake-watcher.ts <s3://bucket/prefix> <val-size> [run]
 */
import { RemoteWatch } from '../../../src/watch/remote/remote-watch.ts';
import { jsonReporter } from '../../../src/watch/report.ts';
import { fakeStages } from './fake-stages.ts';

const [logdir, valSize, run] = process.argv.slice(2);
const killAfter = Number(process.env.KILL_AFTER_PUT ?? 0);
const killAfterKey = process.env.KILL_AFTER_KEY;
const [holdAfterKey, holdMs] = (process.env.HOLD_AFTER_KEY ?? '').split(':');
let held = false;
let uploads = 0;

const remote = new RemoteWatch({
  logdir: logdir!,
  leaseTtlMs: process.env.LEASE_TTL_MS ? Number(process.env.LEASE_TTL_MS) : undefined,
  releaseIdleMs: Number(process.env.RELEASE_IDLE_MS ?? 1000),
  watcher: {
    run,
    once: process.env.LIVE !== '1',
    pollSeconds: Number(process.env.POLL_SECONDS ?? 0.2),
    releaseIdleSeconds: Number(process.env.CHAIN_IDLE_SECONDS ?? 30),
    settings: { valSize: Number(valSize), seed: 0, perplexity: 30 },
    stages: fakeStages(),
    reporter: jsonReporter(),
  },
  onUploaded: (key) => {
    uploads++;
    process.stdout.write(`${JSON.stringify({ type: 'uploaded', key, n: uploads })}\n`);
    if (uploads === killAfter || (killAfterKey && key.includes(killAfterKey))) process.kill(process.pid, 'SIGKILL');
    if (holdAfterKey && !held && key.includes(holdAfterKey)) {
      held = true;
      return new Promise((resolve) => setTimeout(resolve, Number(holdMs)));
    }
  },
  storage: { retryForMs: Number(process.env.RETRY_FOR_MS ?? 120_000), firstDelayMs: 100, maxDelayMs: 1000 },
});
process.on('SIGTERM', () => remote.stop());
const summary = await remote.run();
process.stdout.write(`${JSON.stringify({ type: 'summary', ...summary })}\n`);
process.exitCode = summary.failedRuns.length > 0 ? 1 : 0;
