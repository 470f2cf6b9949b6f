// The log's configuration: command-line flags, an optional JSON file (`--config FILE`) for the
// tunables, and the environment (passed in by main.ts, the only reader of process.env).
// loadConfig reports every problem at once.
//
// The file (paths in it are relative to its folder; unknown keys are refused; every key optional):
//
//   {
//     "listen": "127.0.0.1:7370",        HOST:PORT; --listen overrides
//     "dataDir": "data",                 --data overrides (relative to the working folder)
//     "keyFile": "data/log.key",         default <dataDir>/log.key
//     "caRoots": "ca.pem",               extra roots besides the log's own CA (<dataDir>/ca); --ca-roots overrides
//     "oidcIssuers": "issuers.json",     the CA's OIDC issuers (log/ca/config.ts); --oidc-issuers overrides
//     "devOidc": false,                  serve the development OIDC issuer at /oidc (loopback only); --dev-oidc
//     "maxRequestBytes": 1048576, "retryAfterSeconds": 1,
//     "maxBatchEntries": 4096, "maxBatchDelayMs": 250,
//     "maxPendingEntries": 32768, "maxPendingBytes": 268435456, "maxDbConnections": 10,
//     "verifyWorkers": 2,                worker threads verifying signatures; 0: on the event loop
//     "witnessPolicy": "witnesses.policy",  tlog-policy text: the witnesses (name, vkey, URL) and
//                                        the quorum; none: `quorum none` (publish every checkpoint)
//     "failOpenAfterMs": 600000,         publish without quorum after this wait; unset: fail-closed
//     "publishIntervalMs": 1000,         how often the publisher looks for a new checkpoint
//     "witnessBackoffMaxMs": 60000       longest pause before retrying a failing witness
//   }
//
// Environment: VIGIL_DATABASE_URL (PostgreSQL; else PGlite in <dataDir>/db), VIGIL_DATABASE_SCHEMA
// (the PostgreSQL schema holding the log, created if missing; default the server's search_path).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { optInt, optString, parseListen, readConfigFile } from '../platform/config.ts';
import { errorMessage, LogError } from './errors.ts';
import { DEFAULT_MAX_REQUEST_BYTES } from './kinds/entry.ts';
import { LOG_KEY_FILE } from './key.ts';
import { parsePolicy } from '../tlog/policy.ts';
import { DEFAULT_PUBLISH_INTERVAL_MS, DEFAULT_WITNESS_BACKOFF_MAX_MS } from './publisher.ts';
import { defaultVerifyWorkers } from './verify-pool.ts';
import { DEFAULT_MAX_BATCH_DELAY_MS, DEFAULT_MAX_BATCH_ENTRIES, DEFAULT_MAX_PENDING_BYTES, DEFAULT_MAX_PENDING_ENTRIES } from './log.ts';

/** DEFAULT_LISTEN is where the log listens: loopback only, port 7370. */
export const DEFAULT_LISTEN = '127.0.0.1:7370';
/** DEFAULT_DATA_DIR is the data folder (key file, PGlite database), relative to the working folder. */
export const DEFAULT_DATA_DIR = 'vigil-data/log';
/** DEFAULT_RETRY_AFTER_SECONDS is the Retry-After of 503 answers, in seconds. */
export const DEFAULT_RETRY_AFTER_SECONDS = 1;
/** DEFAULT_MAX_DB_CONNECTIONS bounds the PostgreSQL pool. */
export const DEFAULT_MAX_DB_CONNECTIONS = 10;
/** DEFAULT_WITNESS_POLICY is the policy of a log without witnesses: every checkpoint is published. */
export const DEFAULT_WITNESS_POLICY = 'quorum none\n';
/** MAX_WITNESS_POLICY_BYTES bounds the witness policy file, in bytes. */
export const MAX_WITNESS_POLICY_BYTES = 1024 * 1024;
export { DEFAULT_MAX_REQUEST_BYTES, DEFAULT_PUBLISH_INTERVAL_MS, DEFAULT_WITNESS_BACKOFF_MAX_MS };

/** LogServeConfig is the validated configuration of one log process. */
export interface LogServeConfig {
  /** dataDir holds the key file and the PGlite database; default DEFAULT_DATA_DIR. */
  readonly dataDir: string;
  /** keyFile is the checkpoint key (secret); default `<dataDir>/log.key`. */
  readonly keyFile: string;
  /** databaseUrl is PostgreSQL (env VIGIL_DATABASE_URL); undefined: PGlite in `<dataDir>/db`. */
  readonly databaseUrl: string | undefined;
  /** databaseSchema is the PostgreSQL schema of the log (env VIGIL_DATABASE_SCHEMA); default none. */
  readonly databaseSchema: string | undefined;
  /** listenHost and listenPort are where HTTP listens; default DEFAULT_LISTEN (port 0: any free). */
  readonly listenHost: string;
  readonly listenPort: number;
  /** caRootsFile is a PEM file of further CA roots and intermediates; undefined: the log's own CA only. */
  readonly caRootsFile: string | undefined;
  /** oidcIssuersFile is the CA's issuer list (log/ca/config.ts); undefined: no issuer but the dev one. */
  readonly oidcIssuersFile: string | undefined;
  /** devOidc serves the development OIDC issuer at /oidc (loopback only); default false. */
  readonly devOidc: boolean;
  /** maxRequestBytes bounds a write request body, in bytes; default 1 MiB. */
  readonly maxRequestBytes: number;
  /** retryAfterSeconds is the Retry-After of 503 answers, in seconds; default 1. */
  readonly retryAfterSeconds: number;
  /** maxBatchEntries is the most entries per integrated batch; default 4096. */
  readonly maxBatchEntries: number;
  /** maxBatchDelayMs is the longest an entry waits for its batch, in ms; default 250. */
  readonly maxBatchDelayMs: number;
  /** maxPendingEntries bounds the entries waiting for a batch (more: 503); default 32768. */
  readonly maxPendingEntries: number;
  /** maxPendingBytes bounds their bodies, in bytes; default 256 MiB. */
  readonly maxPendingBytes: number;
  /** maxDbConnections bounds the PostgreSQL connection pool; default 10. */
  readonly maxDbConnections: number;
  /** verifyWorkers is the number of signature-verifying worker threads; default one per core (0 on one core: inline). */
  readonly verifyWorkers: number;
  /** witnessPolicyFile is the tlog-policy file named by `witnessPolicy`; undefined: none. */
  readonly witnessPolicyFile: string | undefined;
  /** witnessPolicy is that file's text (witnesses and quorum); default DEFAULT_WITNESS_POLICY. */
  readonly witnessPolicy: string;
  /** failOpenAfterMs publishes a checkpoint without quorum after this many ms; undefined: fail-closed. */
  readonly failOpenAfterMs: number | undefined;
  /** publishIntervalMs is how often the publisher looks for a new checkpoint, in ms; default 1000. */
  readonly publishIntervalMs: number;
  /** witnessBackoffMaxMs caps the pause before a failing witness is tried again, in ms; default 60000. */
  readonly witnessBackoffMaxMs: number;
}

/** ConfigArgs are the command-line inputs. */
export interface ConfigArgs {
  configFile?: string;
  dataDir?: string;
  listen?: string;
  caRoots?: string;
  oidcIssuers?: string;
  devOidc?: boolean;
}

const FILE_KEYS = new Set([
  'listen', 'dataDir', 'keyFile', 'caRoots', 'oidcIssuers', 'devOidc', 'maxRequestBytes', 'retryAfterSeconds',
  'maxBatchEntries', 'maxBatchDelayMs', 'maxPendingEntries', 'maxPendingBytes', 'maxDbConnections', 'verifyWorkers',
  'witnessPolicy', 'failOpenAfterMs', 'publishIntervalMs', 'witnessBackoffMaxMs',
]);
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * loadConfig reads the optional config file, applies the flags and `env`, and validates it all. It
 * throws one LogError 'invalid_config' listing every problem, one per line.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, args: ConfigArgs): LogServeConfig {
  const problems: string[] = [];
  const { file, baseDir } = readConfigFile(args.configFile, problems);
  for (const k of Object.keys(file)) if (!FILE_KEYS.has(k)) problems.push(`unknown key ${JSON.stringify(k)}`);
  const str = (k: string) => optString(file[k], k, problems);
  const int = (k: string, min: number, max: number, def: number) => optInt(file[k], k, min, max, problems) ?? def;
  const fileDataDir = str('dataDir');
  const dataDir = args.dataDir !== undefined ? resolve(args.dataDir) : fileDataDir !== undefined ? resolve(baseDir, fileDataDir) : resolve(DEFAULT_DATA_DIR);
  const fileKey = str('keyFile');
  const fileCa = str('caRoots');
  const fileIssuers = str('oidcIssuers');
  if (file.devOidc !== undefined && typeof file.devOidc !== 'boolean') problems.push('devOidc: want true or false');
  const filePolicy = str('witnessPolicy');
  const witnessPolicyFile = filePolicy === undefined ? undefined : resolve(baseDir, filePolicy);
  const [listenHost, listenPort] = parseListen(args.listen ?? str('listen') ?? DEFAULT_LISTEN, problems);
  const databaseSchema = env.VIGIL_DATABASE_SCHEMA || undefined;
  if (databaseSchema !== undefined && !SCHEMA_NAME.test(databaseSchema)) {
    problems.push(`VIGIL_DATABASE_SCHEMA: want a lowercase identifier, got ${JSON.stringify(databaseSchema)}`);
  }
  const config: LogServeConfig = {
    dataDir,
    keyFile: fileKey !== undefined ? resolve(baseDir, fileKey) : join(dataDir, LOG_KEY_FILE),
    databaseUrl: env.VIGIL_DATABASE_URL || undefined,
    databaseSchema,
    listenHost,
    listenPort,
    caRootsFile: args.caRoots !== undefined ? resolve(args.caRoots) : fileCa !== undefined ? resolve(baseDir, fileCa) : undefined,
    oidcIssuersFile: args.oidcIssuers !== undefined ? resolve(args.oidcIssuers) : fileIssuers !== undefined ? resolve(baseDir, fileIssuers) : undefined,
    devOidc: args.devOidc === true || file.devOidc === true,
    maxRequestBytes: int('maxRequestBytes', 1024, 64 * 1024 * 1024, DEFAULT_MAX_REQUEST_BYTES),
    retryAfterSeconds: int('retryAfterSeconds', 1, 3600, DEFAULT_RETRY_AFTER_SECONDS),
    maxBatchEntries: int('maxBatchEntries', 1, 65_536, DEFAULT_MAX_BATCH_ENTRIES),
    maxBatchDelayMs: int('maxBatchDelayMs', 1, 60_000, DEFAULT_MAX_BATCH_DELAY_MS),
    maxPendingEntries: int('maxPendingEntries', 1, 10_000_000, DEFAULT_MAX_PENDING_ENTRIES),
    maxPendingBytes: int('maxPendingBytes', 65_536, 2 ** 40, DEFAULT_MAX_PENDING_BYTES),
    maxDbConnections: int('maxDbConnections', 2, 1000, DEFAULT_MAX_DB_CONNECTIONS),
    verifyWorkers: int('verifyWorkers', 0, 256, defaultVerifyWorkers()),
    witnessPolicyFile,
    witnessPolicy: witnessPolicyFile === undefined ? DEFAULT_WITNESS_POLICY : readPolicyFile(witnessPolicyFile, problems),
    failOpenAfterMs: optInt(file.failOpenAfterMs, 'failOpenAfterMs', 0, 30 * 24 * 3600 * 1000, problems),
    publishIntervalMs: int('publishIntervalMs', 10, 3_600_000, DEFAULT_PUBLISH_INTERVAL_MS),
    witnessBackoffMaxMs: int('witnessBackoffMaxMs', 10, 3_600_000, DEFAULT_WITNESS_BACKOFF_MAX_MS),
  };
  if (problems.length > 0) throw new LogError('invalid_config', `invalid log config:\n  - ${problems.join('\n  - ')}`);
  return config;
}

/**
 * readPolicyFile reads the witness policy (bounded) and checks its grammar (tlog/policy.ts); that
 * it names this log and that its witnesses can be reached is checked at start (loadWitnessPolicy).
 */
function readPolicyFile(file: string, problems: string[]): string {
  let text: string;
  try {
    const bytes = readFileSync(file);
    if (bytes.length > MAX_WITNESS_POLICY_BYTES) throw new Error(`over ${MAX_WITNESS_POLICY_BYTES} bytes`);
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    problems.push(`couldn't read the witness policy ${file}: ${errorMessage(err)}`);
    return DEFAULT_WITNESS_POLICY;
  }
  try {
    parsePolicy(text);
  } catch (err) {
    problems.push(`witness policy ${file}: ${errorMessage(err)}`);
  }
  return text;
}


