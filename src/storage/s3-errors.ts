/**
 * What can go wrong talking to an S3 endpoint, as one line each (what, where, what to do), and
 * which failures are worth waiting out. Credentials never appear in a line: only the names of
 * the settings to check, and any message from the SDK has the configured keys blanked out.
 */
import { TransientError, UserError } from '../errors.ts';

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

function asSdkError(error: unknown): SdkError {
  return typeof error === 'object' && error !== null ? (error as SdkError) : {};
}

export function statusOf(error: unknown): number | undefined {
  return asSdkError(error).$metadata?.httpStatusCode;
}

export function errorName(error: unknown): string {
  const { name, code } = asSdkError(error);
  return code && /^E[A-Z]+$/.test(code) ? code : (name ?? 'Error');
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
]);
const RETRYABLE_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'SlowDown',
  'InternalError',
  'ServiceUnavailable',
  'ThrottlingException',
]);

/** A failure that passes when the endpoint comes back: it is down, restarting, overloaded or slow. */
export function isRetryable(error: unknown): boolean {
  const sdk = asSdkError(error);
  if (sdk.code && NETWORK_CODES.has(sdk.code)) return true;
  if (sdk.name && RETRYABLE_NAMES.has(sdk.name)) return true;
  const status = sdk.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  // A socket closed mid-body surfaces as a plain Error from the stream.
  return /socket hang up|ECONNRESET|ECONNREFUSED|premature close|aborted/i.test(sdk.message ?? '');
}

/** Blanks out the configured access key and secret, should a message ever carry them. */
export function redact(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let clean = text;
  for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
    const value = env[name];
    if (value && value.length >= 4) clean = clean.split(value).join('***');
  }
  return clean;
}

const CREDENTIAL_SETTINGS = 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE and ~/.aws/credentials';

/**
 * One `UserError` line for a failure that waiting will not fix. `action` is what was attempted
 * ('read', 'write', 'list', 'delete'), `where` the s3:// address, `endpoint` where it was sent.
 */
export function describeS3Error(error: unknown, action: string, where: string, endpoint: string): UserError {
  const name = errorName(error);
  const what = `cannot ${action} ${where}`;
  const bucket = /^s3:\/\/([^/]+)/.exec(where)?.[1] ?? '';
  const writing = /^(write|create|replace|delete)\b/.test(action);
  switch (name) {
    case 'InvalidAccessKeyId':
      return new UserError(
        `${what}: ${endpoint} does not know this access key (InvalidAccessKeyId); check ${CREDENTIAL_SETTINGS}`,
      );
    case 'SignatureDoesNotMatch':
      return new UserError(
        `${what}: the secret key does not match the access key (SignatureDoesNotMatch); check ${CREDENTIAL_SETTINGS}`,
      );
    case 'ExpiredToken':
    case 'TokenRefreshRequired':
      return new UserError(`${what}: the session token has expired (${name}); renew your credentials and start again`);
    case 'CredentialsProviderError':
      return new UserError(`${what}: no AWS credentials found; set ${CREDENTIAL_SETTINGS}`);
    case 'NoSuchBucket':
      return new UserError(
        `${what}: bucket '${bucket}' does not exist at ${endpoint}; create it (aws s3 mb s3://${bucket}) or fix the bucket in --logdir`,
      );
    case 'AccessDenied':
    case 'AllAccessDisabled':
      return new UserError(
        writing
          ? `${what}: access denied; this key may not write there (a read-only key?), ` +
              'use one allowed s3:PutObject and s3:DeleteObject on it'
          : `${what}: access denied; use a key allowed s3:GetObject and s3:ListBucket on it`,
      );
    case 'InvalidBucketName':
      return new UserError(
        `${what}: '${bucket}' is not a valid bucket name; use 3-63 lowercase letters, digits, '-' or '.'`,
      );
    case 'PermanentRedirect':
    case 'AuthorizationHeaderMalformed':
      return new UserError(`${what}: the bucket is in another region (${name}); set AWS_REGION to the bucket's region`);
  }
  const message = asSdkError(error).message ?? String(error);
  if (/region is missing/i.test(message)) {
    return new UserError(`${what}: no AWS region is set; set AWS_REGION (e.g. us-east-1) or a region in ~/.aws/config`);
  }
  if (/credential/i.test(name) || /could not load credentials/i.test(message)) {
    return new UserError(`${what}: no AWS credentials found; set ${CREDENTIAL_SETTINGS}`);
  }
  const status = statusOf(error);
  return new UserError(redact(`${what}: ${name}${status ? ` (HTTP ${status})` : ''}: ${message}`));
}

export interface RetryOptions {
  /** Give up (with a TransientError the watcher retries later) after waiting this long; default 10 min. */
  retryForMs?: number;
  /** Where the one line while the endpoint is away (and the one when it is back) goes; default stderr. */
  notify?: (line: string) => void;
  /** First wait; doubled up to `maxDelayMs`. */
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Runs operations against one endpoint, waiting out its absences with backoff. While it is away,
 * one line says so (however many operations wait), and one line says when it is back.
 */
export class Retrier {
  private awaySince: number | undefined;
  private readonly retryForMs: number;
  private readonly notify: (line: string) => void;
  private readonly firstDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly endpoint: string,
    options: RetryOptions = {},
  ) {
    this.retryForMs = options.retryForMs ?? 10 * 60_000;
    this.notify = options.notify ?? ((line) => process.stderr.write(`${line}\n`));
    this.firstDelayMs = options.firstDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 8000;
  }

  async run<T>(operation: () => Promise<T>, action: string, where: string): Promise<T> {
    const started = Date.now();
    let delay = this.firstDelayMs;
    for (;;) {
      try {
        const result = await operation();
        if (this.awaySince !== undefined) {
          const seconds = ((Date.now() - this.awaySince) / 1000).toFixed(1);
          this.awaySince = undefined;
          this.notify(`s3: ${this.endpoint} answers again after ${seconds} s; carrying on`);
        }
        return result;
      } catch (error) {
        if (!isRetryable(error)) throw error;
        if (this.awaySince === undefined) {
          this.awaySince = Date.now();
          this.notify(
            `s3: ${this.endpoint} is not answering (${errorName(error)}) on ${action} ${where}; ` +
              `retrying with backoff for up to ${Math.round(this.retryForMs / 1000)} s`,
          );
        }
        if (Date.now() - started + delay > this.retryForMs) {
          throw new TransientError(
            `cannot ${action} ${where}: ${this.endpoint} did not answer for ${Math.round(this.retryForMs / 1000)} s ` +
              `(${errorName(error)}); check that the endpoint is up (AWS_ENDPOINT_URL) and try again`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, this.maxDelayMs);
      }
    }
  }
}
