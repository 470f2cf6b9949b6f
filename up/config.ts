// The configuration of `vigil up`: flags only, embedded defaults for everything else. The layout of
// the data folder is fixed here, so a restart on the same folder finds what the first run made:
//
//   <data>/up.json                      what runs where (written at every start; see up-json.ts)
//   <data>/up.pid                       the running process (lock.ts)
//   <data>/log/log.key                  the log's checkpoint key (its name is the origin)
//   <data>/log/db/                      the log's PGlite database
//   <data>/witnesses/<name>/witness.key each witness's own key
//   <data>/witnesses/<name>/db/         each witness's own PGlite database
//   <data>/log/ca/, <data>/log/tsa/     the CA (with the development OIDC issuer's key) and the TSA
//   <data>/monitor/db/                  the monitor's and alerts' PGlite database
//   <data>/outbox/                      alert mail, one .eml file per message
//   <data>/trusted_root.json            the Sigstore trusted root (also at /api/v1/trusted_root.json)
//   <data>/demo-subscribed              --demo: the issuer URL its alert subscription names
//
// The log folder is the layout of `vigil log init --data <data>/log`, and each witness folder that
// of `vigil witness init --data <data>/witnesses/<name>`, so a folder can later be served by the
// separate commands.
import { join, resolve } from 'node:path';
import { UpError } from './errors.ts';

/** DEFAULT_UP_DATA_DIR is the data folder, relative to the working folder. */
export const DEFAULT_UP_DATA_DIR = 'vigil-data';
/** DEFAULT_UP_HOST is the listen address: loopback only. */
export const DEFAULT_UP_HOST = '127.0.0.1';
/** DEFAULT_UP_PORT is the one HTTP port everything is served on. */
export const DEFAULT_UP_PORT = 8080;
/** UP_WITNESS_NAMES are the witnesses `vigil up` runs, each mounted at /witness/<name>/. */
export const UP_WITNESS_NAMES: readonly string[] = ['w1', 'w2', 'w3'];
/** UP_WITNESS_QUORUM is how many of them must cosign a checkpoint before it is published. */
export const UP_WITNESS_QUORUM = 2;
/** UP_PUBLISH_INTERVAL_MS is how often the publisher looks for a new checkpoint, in ms. */
export const UP_PUBLISH_INTERVAL_MS = 200;
/** UP_WITNESS_BACKOFF_MAX_MS caps the pause before a failing witness is retried, in ms. */
export const UP_WITNESS_BACKOFF_MAX_MS = 5000;

/** UpConfig is the validated configuration of `vigil up`. */
export interface UpConfig {
  /** dataDir is the absolute data folder; default DEFAULT_UP_DATA_DIR. */
  readonly dataDir: string;
  /** host and port are where HTTP listens; default 127.0.0.1:8080 (port 0: any free port). */
  readonly host: string;
  readonly port: number;
  /** origin is the log's origin for a new folder; undefined: `localhost:<port>` (`localhost` for port 0). */
  readonly origin: string | undefined;
  /** demo runs the traffic generator (up/demo.ts). */
  readonly demo: boolean;
}

/** UpArgs are the command-line flags, as given. */
export interface UpArgs {
  data?: string;
  host?: string;
  port?: string;
  origin?: string;
  demo?: boolean;
}

/** loadUpConfig validates the flags; it throws one UpError 'invalid_config' listing every problem. */
export function loadUpConfig(args: UpArgs): UpConfig {
  const problems: string[] = [];
  const portText = args.port ?? String(DEFAULT_UP_PORT);
  const port = /^(0|[1-9][0-9]{0,4})$/.test(portText) ? Number(portText) : NaN;
  if (!(port <= 65535)) problems.push(`--port: want 0..65535, got ${JSON.stringify(portText)}`);
  const host = args.host ?? DEFAULT_UP_HOST;
  if (!/^[0-9A-Za-z.:-]+$/.test(host)) problems.push(`--host: want a host name or IP address, got ${JSON.stringify(host)}`);
  if (args.origin !== undefined && !/^[^\s+]+$/.test(args.origin)) problems.push(`--origin: want a schemeless URL prefix, got ${JSON.stringify(args.origin)}`);
  if (args.data === '') problems.push('--data: want a folder');
  if (problems.length > 0) throw new UpError('invalid_config', `invalid vigil up flags:\n  - ${problems.join('\n  - ')}`);
  return { dataDir: resolve(args.data ?? DEFAULT_UP_DATA_DIR), host, port, origin: args.origin, demo: args.demo === true };
}

/** defaultOrigin is the origin of a new log when --origin is not given. */
export function defaultOrigin(config: UpConfig): string {
  return config.origin ?? (config.port === 0 ? 'localhost' : `localhost:${config.port}`);
}

/** UpPaths are the files and folders of one data folder. */
export interface UpPaths {
  readonly upJson: string;
  readonly pidFile: string;
  readonly logDir: string;
  readonly logKeyFile: string;
  readonly logDbDir: string;
  readonly monitorDbDir: string;
  readonly outboxDir: string;
  readonly trustedRoot: string;
  readonly demoSubscribed: string;
  witnessDir(name: string): string;
  witnessDbDir(name: string): string;
}

/** upPaths lays out a data folder (see the top of this file). */
export function upPaths(dataDir: string): UpPaths {
  const logDir = join(dataDir, 'log');
  return {
    upJson: join(dataDir, 'up.json'),
    pidFile: join(dataDir, 'up.pid'),
    logDir,
    logKeyFile: join(logDir, 'log.key'),
    logDbDir: join(logDir, 'db'),
    monitorDbDir: join(dataDir, 'monitor', 'db'),
    outboxDir: join(dataDir, 'outbox'),
    trustedRoot: join(dataDir, 'trusted_root.json'),
    demoSubscribed: join(dataDir, 'demo-subscribed'),
    witnessDir: (name) => join(dataDir, 'witnesses', name),
    witnessDbDir: (name) => join(dataDir, 'witnesses', name, 'db'),
  };
}
