// The monitor's configuration: which logs to follow and how to run. A JSON file (its path in
// --config or VIGIL_MONITOR_CONFIG) lists the logs; the environment names the database and Redis.
// loadConfig reports every problem at once.
//
// {
//   "logs": [{
//     "origin": "log.example.org/vigil",             checkpoint origin (required)
//     "url": "https://log.example.org/api/v2",       tlog-tiles prefix: <url>/checkpoint, <url>/tile/...
//     "verifierKeys": ["log.example.org/vigil+1234abcd+AQ..."],   the log's note key(s), vkeys
//     "witnessPolicy": "witness w1 <vkey>\nquorum w1\n",  C2SP tlog-policy text (or witnessPolicyFile)
//     "witnessUrls": ["https://w1.example.org"],     witnesses' monitoring prefixes (split view check)
//     "entryFormat": "rekor",                         "rekor" (Vigil/Rekor v2 entries) or "opaque"
//     "startIndex": "0"                               "0", a decimal index, or "head"
//   }],
//   "rulesFile": "rules.json",                        watch rules and policies (monitor/rules.ts)
//   "subscriptions": true,                            also the rules of confirmed alert subscribers,
//                                                     read from the alerts tables in this database
//   "pollIntervalMs": 5000, "entriesPerJob": 1024, ...  see MonitorConfig
// }
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { newPolicyCosignerVerifier, type CosignatureVerifier } from '../tlog/cosignature.ts';
import type { VerifierKey } from '../tlog/note-ed25519.ts';
import { parseVerifierKey } from '../tlog/note-key.ts';
import { parsePolicy, type Policy } from '../tlog/policy.ts';
import { TILE_WIDTH } from '../tlog/tile.ts';
import { MonitorError } from './errors.ts';

/** EntryFormat is how a log's entries are parsed: Vigil/Rekor v2 JSON bodies, or not at all. */
export type EntryFormat = 'rekor' | 'opaque';

/** PolicyCosigner is a witness of a log's policy, with the verifier of its cosignature lines. */
export interface PolicyCosigner {
  name: string;
  verifier: CosignatureVerifier;
}

/** FollowedLog is one log the monitor follows, with its keys parsed. */
export interface FollowedLog {
  origin: string;
  /** url is the tlog-tiles prefix, without a final slash. */
  url: string;
  verifiers: VerifierKey[];
  /** policy is the witness policy; undefined: no cosignatures are required. */
  policy: Policy | undefined;
  cosigners: PolicyCosigner[];
  /** witnessUrls are monitoring prefixes serving GET <url>/<hex sha256(origin)>/checkpoint. */
  witnessUrls: string[];
  entryFormat: EntryFormat;
  /** startIndex is where a new monitor starts: an index, or 'head' (the first verified size). */
  startIndex: bigint | 'head';
}

/** MonitorConfig is everything the monitor processes need. Durations in ms, sizes in bytes. */
export interface MonitorConfig {
  logs: FollowedLog[];
  /** rulesFile is the JSON rule set (monitor/rules.ts); undefined: no rules. */
  rulesFile: string | undefined;
  /** subscriptions adds the confirmed alert subscribers' rules (alerts/, same database); default false. */
  subscriptions: boolean;
  /** dataDir holds PGlite when there is no databaseUrl; default DEFAULT_DATA_DIR. */
  dataDir: string;
  /** databaseUrl is PostgreSQL (env VIGIL_DATABASE_URL); undefined: PGlite in `<dataDir>/db`. */
  databaseUrl: string | undefined;
  /** databaseSchema is the PostgreSQL schema (env VIGIL_DATABASE_SCHEMA); default none. */
  databaseSchema: string | undefined;
  /** redisUrl is Redis for BullMQ and leader election (env VIGIL_REDIS_URL); undefined: embedded. */
  redisUrl: string | undefined;
  /** redisPrefix prefixes every Redis key (env VIGIL_REDIS_PREFIX); default "vigil". */
  redisPrefix: string;
  /** pollIntervalMs is the time between checkpoint polls of one log; default 5000. */
  pollIntervalMs: number;
  /** entriesPerJob is the size of a range job, a multiple of 256 up to 4,096; default 1,024. */
  entriesPerJob: number;
  /** workerConcurrency is how many range jobs one worker process runs at once; default 4. */
  workerConcurrency: number;
  /** fetchTimeoutMs bounds each HTTP fetch; default 10000. */
  fetchTimeoutMs: number;
  /** requeueAfterMs: a range not done this long after it was enqueued is enqueued again; default 60000. */
  requeueAfterMs: number;
  /** unreachableAfterMs: a log not verified for this long raises a health finding; default 600000. */
  unreachableAfterMs: number;
  /** leaseMs is the tailer's leader lease in Redis; renewed every leaseMs/3; default 15000. */
  leaseMs: number;
  /** jobLockMs is how long a killed worker's job stays locked before another takes it; default 30000. */
  jobLockMs: number;
}

/** DEFAULT_DATA_DIR is the monitor's data folder when none is given. */
export const DEFAULT_DATA_DIR = 'vigil-data/monitor';
/** DEFAULT_POLL_INTERVAL_MS is the default time between checkpoint polls. */
export const DEFAULT_POLL_INTERVAL_MS = 5000;
/**
 * DEFAULT_ENTRIES_PER_JOB is the default range size: four entry bundles. A range job costs a fixed
 * ~8 database statements and a few Redis calls besides its per-entry work; at one bundle per job
 * that overhead held a BullMQ worker to ~18–21k entries/s, at four it does ~25k (bench/monitor).
 */
export const DEFAULT_ENTRIES_PER_JOB = 4 * TILE_WIDTH;
/**
 * MAX_ENTRIES_PER_JOB bounds a range job: its entries are held in memory together (leaves are at
 * most 64 KiB, so a worker running workerConcurrency jobs holds at most that many × 256 MiB).
 */
export const MAX_ENTRIES_PER_JOB = 16 * TILE_WIDTH;
/** DEFAULT_TUNING holds the defaults of every numeric setting. */
export const DEFAULT_TUNING = {
  pollIntervalMs: DEFAULT_POLL_INTERVAL_MS,
  entriesPerJob: DEFAULT_ENTRIES_PER_JOB,
  workerConcurrency: 4,
  fetchTimeoutMs: 10_000,
  requeueAfterMs: 60_000,
  unreachableAfterMs: 600_000,
  leaseMs: 15_000,
  jobLockMs: 30_000,
} as const;

/** MAX_CONFIG_BYTES bounds the config file and a policy file. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** ConfigArgs are the command-line options that override the file and environment. */
export interface ConfigArgs {
  config?: string;
  dataDir?: string;
}

/**
 * loadConfig reads the config file named by args.config or VIGIL_MONITOR_CONFIG and the
 * environment; it throws MonitorError 'invalid_config' listing every problem.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, args: ConfigArgs): MonitorConfig {
  const file = args.config ?? env.VIGIL_MONITOR_CONFIG;
  if (!file) throw new MonitorError('invalid_config', 'no monitor config: pass --config <file> or set VIGIL_MONITOR_CONFIG');
  let value: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    if (text.length > MAX_CONFIG_BYTES) throw new Error(`over ${MAX_CONFIG_BYTES} bytes`);
    value = JSON.parse(text);
  } catch (err) {
    throw new MonitorError('invalid_config', `couldn't read the monitor config ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseMonitorConfig(value, { baseDir: dirname(resolve(file)), env, dataDir: args.dataDir });
}

/**
 * parseMonitorConfig validates a config document (see the top of this file). Relative file names
 * are resolved against `baseDir`. Throws 'invalid_config' listing every problem.
 */
export function parseMonitorConfig(
  value: unknown,
  opts: { baseDir: string; env?: Readonly<Record<string, string | undefined>>; dataDir?: string },
): MonitorConfig {
  const problems: string[] = [];
  const env = opts.env ?? {};
  const doc = isObject(value) ? value : (problems.push('config: want a JSON object'), {});
  const rawLogs = Array.isArray(doc.logs) ? doc.logs : (problems.push('logs: want an array'), []);
  const logs = rawLogs.map((l, i) => parseFollowedLog(l, `logs[${i}]`, opts.baseDir, problems));
  const origins = new Set<string>();
  for (const l of logs) {
    if (origins.has(l.origin)) problems.push(`logs: origin ${JSON.stringify(l.origin)} is listed twice`);
    origins.add(l.origin);
  }
  const num = (name: keyof typeof DEFAULT_TUNING, min: number): number => {
    const v = doc[name];
    if (v === undefined) return DEFAULT_TUNING[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) problems.push(`${name}: want an integer ≥ ${min}`);
    return typeof v === 'number' ? v : DEFAULT_TUNING[name];
  };
  const config: MonitorConfig = {
    logs,
    rulesFile: typeof doc.rulesFile === 'string' ? resolve(opts.baseDir, doc.rulesFile) : undefined,
    subscriptions: doc.subscriptions === true,
    dataDir: opts.dataDir ?? (typeof doc.dataDir === 'string' ? resolve(opts.baseDir, doc.dataDir) : DEFAULT_DATA_DIR),
    databaseUrl: env.VIGIL_DATABASE_URL || undefined,
    databaseSchema: env.VIGIL_DATABASE_SCHEMA || undefined,
    redisUrl: env.VIGIL_REDIS_URL || undefined,
    redisPrefix: env.VIGIL_REDIS_PREFIX || 'vigil',
    pollIntervalMs: num('pollIntervalMs', 10),
    entriesPerJob: num('entriesPerJob', TILE_WIDTH),
    workerConcurrency: num('workerConcurrency', 1),
    fetchTimeoutMs: num('fetchTimeoutMs', 100),
    requeueAfterMs: num('requeueAfterMs', 100),
    unreachableAfterMs: num('unreachableAfterMs', 100),
    leaseMs: num('leaseMs', 300),
    jobLockMs: num('jobLockMs', 1000),
  };
  if (config.entriesPerJob % TILE_WIDTH !== 0 || config.entriesPerJob > MAX_ENTRIES_PER_JOB) {
    problems.push(`entriesPerJob: want a multiple of ${TILE_WIDTH} up to ${MAX_ENTRIES_PER_JOB}`);
  }
  if (doc.rulesFile !== undefined && typeof doc.rulesFile !== 'string') problems.push('rulesFile: want a file name');
  if (doc.subscriptions !== undefined && typeof doc.subscriptions !== 'boolean') problems.push('subscriptions: want true or false');
  if (problems.length > 0) throw new MonitorError('invalid_config', `monitor config: ${problems.join('; ')}`);
  return config;
}

/** parseFollowedLog validates one `logs[]` item, pushing problems rather than throwing. */
export function parseFollowedLog(value: unknown, path: string, baseDir: string, problems: string[]): FollowedLog {
  const v = isObject(value) ? value : (problems.push(`${path}: want an object`), {} as Record<string, unknown>);
  const str = (k: string) => (typeof v[k] === 'string' && v[k] !== '' ? (v[k] as string) : (problems.push(`${path}.${k}: want a string`), ''));
  const origin = str('origin');
  const url = checkUrl(str('url'), `${path}.url`, problems);
  const keys = Array.isArray(v.verifierKeys) && v.verifierKeys.length > 0 ? v.verifierKeys : (problems.push(`${path}.verifierKeys: want a non-empty array`), []);
  const verifiers: VerifierKey[] = [];
  keys.forEach((k, i) => {
    try {
      verifiers.push(parseVerifierKey(String(k)));
    } catch (err) {
      problems.push(`${path}.verifierKeys[${i}]: ${(err as Error).message}`);
    }
  });
  const { policy, cosigners } = parseLogPolicy(v, path, baseDir, problems);
  const witnessUrls = Array.isArray(v.witnessUrls) ? v.witnessUrls.map((u, i) => checkUrl(String(u), `${path}.witnessUrls[${i}]`, problems)) : [];
  const entryFormat = v.entryFormat ?? 'rekor';
  if (entryFormat !== 'rekor' && entryFormat !== 'opaque') problems.push(`${path}.entryFormat: want "rekor" or "opaque"`);
  const start = v.startIndex ?? '0';
  let startIndex: bigint | 'head' = 0n;
  if (start === 'head') startIndex = 'head';
  else if (typeof start === 'string' && /^(0|[1-9][0-9]{0,19})$/.test(start)) startIndex = BigInt(start);
  else problems.push(`${path}.startIndex: want "head" or a decimal index`);
  return { origin, url, verifiers, policy, cosigners, witnessUrls, entryFormat: entryFormat as EntryFormat, startIndex };
}

function parseLogPolicy(v: Record<string, unknown>, path: string, baseDir: string, problems: string[]): { policy: Policy | undefined; cosigners: PolicyCosigner[] } {
  let text: string | undefined;
  if (typeof v.witnessPolicy === 'string') text = v.witnessPolicy;
  else if (typeof v.witnessPolicyFile === 'string') {
    try {
      text = readFileSync(resolve(baseDir, v.witnessPolicyFile), 'utf8').slice(0, MAX_CONFIG_BYTES + 1);
    } catch (err) {
      problems.push(`${path}.witnessPolicyFile: ${(err as Error).message}`);
    }
  }
  if (text === undefined) return { policy: undefined, cosigners: [] };
  try {
    const policy = parsePolicy(text);
    // Witness keys may be Ed25519, published as 0x01 or 0x04 (or Sigsum hex; lines match on the
    // 0x04 key ID), or ML-DSA-44 (0x06, subtree/v1 lines).
    const cosigners = policy.witnesses.map((w) => ({ name: w.name, verifier: newPolicyCosignerVerifier(w.key) }));
    return { policy, cosigners };
  } catch (err) {
    problems.push(`${path}.witnessPolicy: ${(err as Error).message}`);
    return { policy: undefined, cosigners: [] };
  }
}

function checkUrl(url: string, path: string, problems: string[]): string {
  if (url === '') return url;
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
    if (u.search !== '' || u.hash !== '') throw new Error('has a query or fragment');
  } catch (err) {
    problems.push(`${path}: ${JSON.stringify(url)} is not a usable URL (${(err as Error).message})`);
  }
  return url.replace(/\/+$/, '');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
