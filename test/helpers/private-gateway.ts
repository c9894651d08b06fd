/**
 * A Ceph gateway of the test's own: `../shared/tools/ceph/s3-up.sh` in a scratch folder on free
 * ports, for a test that kills the gateway and starts it again while the one every other test
 * file shares stays up. Its settings are those s3-up.sh writes to `$CEPH_S3_DIR/env`.
 */
import { execFileSync, spawn } from 'node:child_process';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../tensorboard-live/helpers/tensorboard-server.ts';
import { SHARED_DIR } from './requirements.ts';

const CEPH_TOOLS = join(SHARED_DIR, 'tools', 'ceph');

export interface PrivateGateway {
  /** The variables a client of this gateway sets (endpoint, keys, region, CEPH_CONF). */
  env: Record<string, string>;
  endpoint: string;
  /** SIGKILLs the gateway process (the monitor and the OSD, which hold the data, stay up). */
  kill(): void;
  /** Starts the gateway again as s3-up.sh does. */
  start(): void;
  /** Stops every daemon and removes the folder. */
  stop(): Promise<void>;
}

export async function startPrivateGateway(): Promise<PrivateGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'ceph-private-'));
  const settings = {
    ...process.env,
    CEPH_S3_DIR: dir,
    CEPH_S3_PORT: String(await freePort()),
    CEPH_S3_MON_PORT: String(await freePort()),
  };
  const stop = async () => {
    execFileSync('bash', [join(CEPH_TOOLS, 's3-down.sh')], { env: settings, stdio: 'ignore' });
    await rm(dir, { recursive: true, force: true });
  };
  try {
    execFileSync('bash', [join(CEPH_TOOLS, 's3-up.sh')], { env: settings, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    await stop();
    throw error;
  }
  const env = Object.fromEntries(
    (await readFile(join(dir, 'env'), 'utf8'))
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  const pidFile = join(dir, 'run', 'client.rgw.a.pid');
  return {
    env,
    endpoint: env.AWS_ENDPOINT_URL!,
    kill: () => process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL'),
    start: () => {
      const log = openSync(join(dir, 'log', 'client.rgw.a.out'), 'a');
      const child = spawn('radosgw', ['-n', 'client.rgw.a', '-f'], {
        detached: true,
        stdio: ['ignore', log, log],
        env: { ...process.env, CEPH_CONF: env.CEPH_CONF },
      });
      child.unref();
      writeFileSync(pidFile, `${child.pid}\n`);
    },
    stop,
  };
}
