// The witness node's configuration: a JSON file named by `vigil witness serve --config FILE`, the
// command-line overrides and the environment. loadConfig reports every problem at once.
//
// The file (paths in it are relative to the file's folder; unknown keys are refused):
//
//   {
//     "name": "witness.example.org",            optional; must equal the key's name
//     "listen": "127.0.0.1:7380",               HOST:PORT; --listen overrides
//     "dataDir": "data",                        --data overrides (relative to the working folder)
//     "keyFile": "data/witness.key",            default <dataDir>/witness.key
//     "logs": [{ "origin": "example.com/log", "vkeys": ["example.com/log+1234abcd+AQ..."],
//                "qpd": 86400,                                         optional rate limit
//                "pull": { "url": "https://example.com/log", "intervalMs": 60000 } }],
//     "logLists": ["lists/testing.witness-network.txt"],                logs/v0 files
//     "maxBodyBytes": 131072, "maxInFlight": 256, "pullTimeoutMs": 10000
//   }
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { optInt, optString, parseListen } from '../platform/config.ts';
import { parseLogList } from '../tlog/log-list.ts';
import { DEFAULT_MAX_WITNESS_BODY_BYTES } from '../tlog/witness-request.ts';
import { WitnessError } from './errors.ts';
import { WITNESS_KEY_FILE } from './key.ts';
import { newFollowedLogs } from './witness-config.ts';

/** DEFAULT_LISTEN is the address the witness listens on: loopback only, port 7380. */
export const DEFAULT_LISTEN = '127.0.0.1:7380';
/** DEFAULT_DATA_DIR is the data folder (key file, PGlite database), relative to the working folder. */
export const DEFAULT_DATA_DIR = 'vigil-data/witness';
/** DEFAULT_MAX_BODY_BYTES bounds an add-checkpoint body: 128 KiB, Sunlight's limit. */
export const DEFAULT_MAX_BODY_BYTES = DEFAULT_MAX_WITNESS_BODY_BYTES;
/** DEFAULT_MAX_IN_FLIGHT bounds the add-checkpoint requests processed at once; more get 429. */
export const DEFAULT_MAX_IN_FLIGHT = 256;
/** DEFAULT_PULL_INTERVAL_MS is how often a pulled log's checkpoint is fetched: one minute. */
export const DEFAULT_PULL_INTERVAL_MS = 60_000;
/** MIN_PULL_INTERVAL_MS is the shortest accepted pull interval. */
export const MIN_PULL_INTERVAL_MS = 100;
/** DEFAULT_PULL_TIMEOUT_MS bounds each HTTP fetch of pull mode (checkpoint or tile). */
export const DEFAULT_PULL_TIMEOUT_MS = 10_000;

/** PullConfig makes the witness fetch a log's checkpoint and tiles itself (tlog-tiles). */
export interface PullConfig {
  /** url is the log's tlog-tiles prefix (`<url>/checkpoint`, `<url>/tile/...`), http or https. */
  readonly url: string;
  /** intervalMs is the time between polls, in milliseconds; default DEFAULT_PULL_INTERVAL_MS. */
  readonly intervalMs: number;
}

/** WitnessLogConfig is one followed log. */
export interface WitnessLogConfig {
  /** origin is the checkpoint's first line. */
  readonly origin: string;
  /** vkeys are the log's verifier keys (C2SP signed-note); at least one. */
  readonly vkeys: readonly string[];
  /** qpd limits add-checkpoint requests per day (qpd/86400 per second); undefined: no limit. */
  readonly qpd: number | undefined;
  /** pull, when set, makes the witness poll the log (for logs that do not push). */
  readonly pull: PullConfig | undefined;
}

/** WitnessConfig is the validated configuration of one witness node. */
export interface WitnessConfig {
  /** name is the witness name from the file; undefined: the key's name. */
  readonly name: string | undefined;
  /** listenHost and listenPort are where the HTTP server listens; default DEFAULT_LISTEN. */
  readonly listenHost: string;
  readonly listenPort: number;
  /** dataDir holds the key file and the PGlite database; default DEFAULT_DATA_DIR. */
  readonly dataDir: string;
  /** keyFile is the witness's secret key file; default `<dataDir>/witness.key`. */
  readonly keyFile: string;
  /** databaseUrl is PostgreSQL (env VIGIL_DATABASE_URL); undefined: PGlite in `<dataDir>/db`. */
  readonly databaseUrl: string | undefined;
  /** logs are the followed logs: the file's `logs`, then every entry of `logLists` (with its qpd). */
  readonly logs: readonly WitnessLogConfig[];
  /** logLists are the logs/v0 files that were read, resolved. */
  readonly logLists: readonly string[];
  /** maxBodyBytes bounds an add-checkpoint body, in bytes; default 131072. */
  readonly maxBodyBytes: number;
  /** maxInFlight bounds concurrent add-checkpoint requests; beyond it 429; default 256. */
  readonly maxInFlight: number;
  /** pullTimeoutMs bounds each fetch of pull mode, in milliseconds; default 10000. */
  readonly pullTimeoutMs: number;
}

/** ConfigArgs are the command-line inputs: the config file and the overrides. */
export interface ConfigArgs {
  configFile: string;
  dataDir?: string;
  listen?: string;
}

const TOP_KEYS = new Set(['name', 'listen', 'dataDir', 'keyFile', 'logs', 'logLists', 'maxBodyBytes', 'maxInFlight', 'pullTimeoutMs']);
const LOG_KEYS = new Set(['origin', 'vkeys', 'qpd', 'pull']);
const PULL_KEYS = new Set(['url', 'intervalMs']);

/**
 * loadConfig reads the config file and the log lists it names, applies the command-line
 * overrides and VIGIL_DATABASE_URL from `env`, and validates everything, including the log keys.
 * It throws one WitnessError 'invalid_config' listing every problem, one per line.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, args: ConfigArgs): WitnessConfig {
  let text: string;
  try {
    text = readFileSync(args.configFile, 'utf8');
  } catch (err) {
    throw new WitnessError('invalid_config', `couldn't read the witness config ${args.configFile}: ${(err as Error).message}`, { cause: err });
  }
  return parseConfig(text, { ...args, baseDir: dirname(resolve(args.configFile)), env, readFile: (p) => readFileSync(p, 'utf8') });
}

/** ParseConfigOptions are parseConfig's inputs besides the text (tests pass their own readFile). */
export interface ParseConfigOptions extends Omit<ConfigArgs, 'configFile'> {
  baseDir: string;
  env: Readonly<Record<string, string | undefined>>;
  readFile: (path: string) => string;
}

/** parseConfig is loadConfig on the file's text; see loadConfig. */
export function parseConfig(text: string, opts: ParseConfigOptions): WitnessConfig {
  const problems: string[] = [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new WitnessError('invalid_config', `invalid witness config: not JSON: ${(err as Error).message}`, { cause: err });
  }
  const o = asObject(raw, 'the config', TOP_KEYS, problems) ?? {};
  const name = optString(o.name, 'name', problems);
  const [listenHost, listenPort] = parseListen(opts.listen ?? optString(o.listen, 'listen', problems) ?? DEFAULT_LISTEN, problems);
  const fileDataDir = optString(o.dataDir, 'dataDir', problems);
  const dataDir = opts.dataDir !== undefined ? resolve(opts.dataDir) : fileDataDir !== undefined ? resolve(opts.baseDir, fileDataDir) : resolve(DEFAULT_DATA_DIR);
  const fileKey = optString(o.keyFile, 'keyFile', problems);
  const keyFile = fileKey !== undefined ? resolve(opts.baseDir, fileKey) : join(dataDir, WITNESS_KEY_FILE);
  const own = parseLogs(o.logs, problems);
  const logLists = parseStringList(o.logLists, 'logLists', problems).map((p) => resolve(opts.baseDir, p));
  const listed = logLists.flatMap((p) => readLogList(p, opts.readFile, problems));
  const logs = [...own, ...listed];
  try {
    newFollowedLogs(logs);
  } catch (err) {
    problems.push((err as Error).message);
  }
  const maxBodyBytes = optInt(o.maxBodyBytes, 'maxBodyBytes', 1024, 16 * 1024 * 1024, problems) ?? DEFAULT_MAX_BODY_BYTES;
  const maxInFlight = optInt(o.maxInFlight, 'maxInFlight', 1, 1_000_000, problems) ?? DEFAULT_MAX_IN_FLIGHT;
  const pullTimeoutMs = optInt(o.pullTimeoutMs, 'pullTimeoutMs', 100, 600_000, problems) ?? DEFAULT_PULL_TIMEOUT_MS;
  const databaseUrl = opts.env.VIGIL_DATABASE_URL || undefined;
  if (problems.length > 0) {
    throw new WitnessError('invalid_config', `invalid witness config:\n  - ${problems.join('\n  - ')}`);
  }
  return { name, listenHost, listenPort, dataDir, keyFile, databaseUrl, logs, logLists, maxBodyBytes, maxInFlight, pullTimeoutMs };
}

function parseLogs(v: unknown, problems: string[]): WitnessLogConfig[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    problems.push('logs: want an array of {origin, vkeys, qpd?, pull?}');
    return [];
  }
  return v.flatMap((item, i) => {
    const where = `logs[${i}]`;
    const o = asObject(item, where, LOG_KEYS, problems);
    if (o === undefined) return [];
    const origin = optString(o.origin, `${where}.origin`, problems);
    if (origin === undefined) problems.push(`${where}.origin is required`);
    const vkeys = parseStringList(o.vkeys, `${where}.vkeys`, problems);
    const qpd = optInt(o.qpd, `${where}.qpd`, 1, 2 ** 31 - 1, problems);
    const pull = parsePull(o.pull, `${where}.pull`, problems);
    return origin === undefined ? [] : [{ origin, vkeys, qpd, pull }];
  });
}

function parsePull(v: unknown, where: string, problems: string[]): PullConfig | undefined {
  if (v === undefined) return undefined;
  const o = asObject(v, where, PULL_KEYS, problems);
  if (o === undefined) return undefined;
  const url = optString(o.url, `${where}.url`, problems);
  if (url === undefined || !/^https?:\/\/[^\s]+$/.test(url) || !URL.canParse(url)) {
    problems.push(`${where}.url: want the log's http(s) tlog-tiles prefix`);
  }
  const intervalMs = optInt(o.intervalMs, `${where}.intervalMs`, MIN_PULL_INTERVAL_MS, 86_400_000, problems) ?? DEFAULT_PULL_INTERVAL_MS;
  return { url: (url ?? '').replace(/\/+$/, ''), intervalMs };
}

function readLogList(path: string, readFile: (p: string) => string, problems: string[]): WitnessLogConfig[] {
  try {
    // A list is attacker-controlled when fetched from the network; parseLogList is strict.
    return parseLogList(readFile(path)).map((e) => ({
      origin: e.origin,
      vkeys: [e.vkey],
      qpd: e.qpd > 0 ? e.qpd : undefined,
      pull: undefined,
    }));
  } catch (err) {
    problems.push(`log list ${path}: ${(err as Error).message}`);
    return [];
  }
}

function asObject(v: unknown, where: string, keys: ReadonlySet<string>, problems: string[]): Record<string, unknown> | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    problems.push(`${where}: want an object`);
    return undefined;
  }
  for (const k of Object.keys(v)) if (!keys.has(k)) problems.push(`${where}: unknown key ${JSON.stringify(k)}`);
  return v as Record<string, unknown>;
}


function parseStringList(v: unknown, where: string, problems: string[]): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) {
    problems.push(`${where}: want an array of non-empty strings`);
    return [];
  }
  return v as string[];
}

