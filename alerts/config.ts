// The alerts configuration: an optional JSON file (`--config FILE`) with any of the tunables below,
// the command-line flags and the environment (read only by main.ts and passed in). loadConfig
// reports every problem at once.
//
// Environment: VIGIL_SMTP_URL (smtp:// or smtps:// URL of the mail relay; unset: mail is written
// as .eml files to <dataDir>/outbox), VIGIL_ALERTS_PUBLIC_URL (the URL the alerts pages are
// reached at, used in every mail link), VIGIL_ALERTS_FROM, VIGIL_DATABASE_URL (PostgreSQL; unset:
// PGlite in <dataDir>/db), VIGIL_DATABASE_SCHEMA, VIGIL_REDIS_URL (BullMQ; unset: in-process
// queue), VIGIL_ALERTS_ALLOW_PRIVATE_WEBHOOKS=1 (operator: allow webhooks to private addresses),
// VIGIL_ALERTS_BOUNCE_ADDRESS and VIGIL_ALERTS_BOUNCE_LISTEN (bounceAddress and bounceListen, over
// the file's: compose.yaml sets them so).
import { join, resolve } from 'node:path';
import { parseListen, readConfigFile } from '../platform/config.ts';
import { AlertsError } from './errors.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** DEFAULT_LISTEN is where `vigil alerts serve` listens: loopback only, port 7390. */
export const DEFAULT_LISTEN = '127.0.0.1:7390';
/** DEFAULT_DATA_DIR is the data folder (PGlite database, mail outbox). */
export const DEFAULT_DATA_DIR = 'vigil-data/alerts';
/** DEFAULT_ENTRY_LINK is the link to an entry with its inclusion proof; {origin} and {index} are filled in. */
export const DEFAULT_ENTRY_LINK = 'https://{origin}/api/v1/log/entries?logIndex={index}';

/** AlertsTunables are the settings the JSON file may hold; every one has a default (TUNABLE_DEFAULTS). */
export interface AlertsTunables {
  /** pollIntervalMs is how often the worker looks for findings and due messages without a wake-up; default 1000. */
  pollIntervalMs: number;
  /** findingsBatch is the most findings fanned out per transaction; default 200. */
  findingsBatch: number;
  /** sendLeaseMs is how long a claimed message may take before it is treated as abandoned; default 120000. */
  sendLeaseMs: number;
  /** sendConcurrency is the messages one worker sends at once; default 4. */
  sendConcurrency: number;
  /** mailMaxAttempts is the attempts per mail before it is failed; default 6. */
  mailMaxAttempts: number;
  /** mailBackoffMs is the first mail retry delay, doubled each time; default 60000. */
  mailBackoffMs: number;
  /** webhookMaxAttempts is the attempts per webhook call before it is failed; default 8. */
  webhookMaxAttempts: number;
  /** webhookBackoffMs is the first webhook retry delay, doubled each time; default 30000. */
  webhookBackoffMs: number;
  /** webhookTimeoutMs bounds one webhook call; default 10000. */
  webhookTimeoutMs: number;
  /** webhookDisableAfterFailures disables a webhook after this many failed calls in a row; default 10. */
  webhookDisableAfterFailures: number;
  /** allowPrivateWebhooks lets webhooks reach loopback, private and link-local addresses; default false. */
  allowPrivateWebhooks: boolean;
  /** confirmationsPerAddressPerDay caps confirmation and manage-link mails per address per UTC day; default 3. */
  confirmationsPerAddressPerDay: number;
  /** confirmationsPerClientPerHour caps subscribe requests per client (IPv4 address, IPv6 /64) per hour; default 10. */
  confirmationsPerClientPerHour: number;
  /** confirmTokenTtlMs is how long a confirmation link works; default 2 days. */
  confirmTokenTtlMs: number;
  /** manageTokenTtlMs is how long a manage link works; default 60 days. */
  manageTokenTtlMs: number;
  /** unsubscribeTokenTtlMs is how long an unsubscribe link works; default 400 days. */
  unsubscribeTokenTtlMs: number;
  /** maxRules, maxPolicies, maxWebhooks, maxLogs bound one subscriber's settings; defaults 100, 20, 3, 20. */
  maxRules: number;
  maxPolicies: number;
  maxWebhooks: number;
  maxLogs: number;
  /**
   * certificateGraceMs is how long an alert about a precertificate (the CA logs each certificate
   * before it issues it) waits for an entry signed with that certificate, to go out as one mail
   * with it; default 60000. 0 mails each at once.
   */
  certificateGraceMs: number;
  /** entryLink is the template of the link to an entry with its proof; default DEFAULT_ENTRY_LINK. */
  entryLink: string;
  /**
   * bounceAddress, when set (local@domain), makes every mail's envelope sender a VERP address
   * `<local>+<id>.<token>@<domain>` so delivery status notifications name the message (bounces.ts).
   */
  bounceAddress: string;
  /** bounceListen is host:port of the SMTP listener for those notifications (needs bounceAddress); default off. */
  bounceListen: string;
  /** dkimKeyFile, dkimDomain, dkimSelector enable DKIM signing of every mail (all three or none). */
  dkimKeyFile: string;
  dkimDomain: string;
  dkimSelector: string;
}

/** TUNABLE_DEFAULTS are the defaults of AlertsTunables. */
export const TUNABLE_DEFAULTS: AlertsTunables = {
  pollIntervalMs: 1000,
  findingsBatch: 200,
  sendLeaseMs: 120_000,
  sendConcurrency: 4,
  mailMaxAttempts: 6,
  mailBackoffMs: 60_000,
  webhookMaxAttempts: 8,
  webhookBackoffMs: 30_000,
  webhookTimeoutMs: 10_000,
  webhookDisableAfterFailures: 10,
  allowPrivateWebhooks: false,
  confirmationsPerAddressPerDay: 3,
  confirmationsPerClientPerHour: 10,
  confirmTokenTtlMs: 2 * DAY_MS,
  manageTokenTtlMs: 60 * DAY_MS,
  unsubscribeTokenTtlMs: 400 * DAY_MS,
  maxRules: 100,
  maxPolicies: 20,
  maxWebhooks: 3,
  maxLogs: 20,
  certificateGraceMs: 60_000,
  entryLink: DEFAULT_ENTRY_LINK,
  bounceAddress: '',
  bounceListen: '',
  dkimKeyFile: '',
  dkimDomain: '',
  dkimSelector: '',
};

/** AlertsConfig is what startAlerts needs: the tunables plus where mail comes from and links point to. */
export interface AlertsConfig extends AlertsTunables {
  /** publicUrl is the URL the alerts router is reached at (no trailing slash); mail links start with it. */
  publicUrl: string;
  /** from is the From address of every mail, e.g. "Vigil alerts <alerts@vigil.example>". */
  from: string;
  /** smtpUrl is the mail relay (VIGIL_SMTP_URL); undefined: .eml files in outboxDir. */
  smtpUrl: string | undefined;
  /** outboxDir receives the .eml files when there is no SMTP relay; default <dataDir>/outbox. */
  outboxDir: string;
}

/** AlertsServeConfig is the configuration of `vigil alerts serve` / `vigil alerts work`. */
export interface AlertsServeConfig extends AlertsConfig {
  dataDir: string;
  databaseUrl: string | undefined;
  databaseSchema: string | undefined;
  redisUrl: string | undefined;
  listenHost: string;
  listenPort: number;
}

/** ConfigArgs are the command-line inputs. */
export interface ConfigArgs {
  configFile?: string;
  dataDir?: string;
  listen?: string;
}

/**
 * loadConfig reads the optional file, applies flags and `env`, and validates everything. It throws
 * one AlertsError 'invalid_config' listing every problem, one per line.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, args: ConfigArgs): AlertsServeConfig {
  const problems: string[] = [];
  const { file, baseDir } = readConfigFile(args.configFile, problems);
  const fromEnv: Record<string, string> = {};
  if (env.VIGIL_ALERTS_BOUNCE_ADDRESS) fromEnv.bounceAddress = env.VIGIL_ALERTS_BOUNCE_ADDRESS;
  if (env.VIGIL_ALERTS_BOUNCE_LISTEN) fromEnv.bounceListen = env.VIGIL_ALERTS_BOUNCE_LISTEN;
  const tunables = parseTunables({ ...file, ...fromEnv }, problems);
  if (tunables.dkimKeyFile !== '') tunables.dkimKeyFile = resolve(baseDir, tunables.dkimKeyFile);
  if (env.VIGIL_ALERTS_ALLOW_PRIVATE_WEBHOOKS === '1') tunables.allowPrivateWebhooks = true;
  const dataDir = resolve(args.dataDir ?? DEFAULT_DATA_DIR);
  const [listenHost, listenPort] = parseListen(args.listen ?? DEFAULT_LISTEN, problems);
  const publicUrl = (env.VIGIL_ALERTS_PUBLIC_URL ?? `http://${listenHost}:${listenPort}`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+/.test(publicUrl) || !URL.canParse(publicUrl)) problems.push(`VIGIL_ALERTS_PUBLIC_URL: want an http(s) URL, got ${JSON.stringify(publicUrl)}`);
  const smtpUrl = env.VIGIL_SMTP_URL || undefined;
  if (smtpUrl !== undefined && !/^smtps?:\/\//.test(smtpUrl)) problems.push('VIGIL_SMTP_URL: want an smtp:// or smtps:// URL');
  const from = env.VIGIL_ALERTS_FROM ?? 'Vigil alerts <alerts@localhost>';
  if (mailDomainOf(from) === undefined) problems.push(`VIGIL_ALERTS_FROM: want "Name <user@domain>" or "user@domain", got ${JSON.stringify(from)}`);
  const databaseSchema = env.VIGIL_DATABASE_SCHEMA || undefined;
  if (databaseSchema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) problems.push('VIGIL_DATABASE_SCHEMA: want a lowercase identifier');
  if (problems.length > 0) throw new AlertsError('invalid_config', `invalid alerts config:\n  - ${problems.join('\n  - ')}`);
  return {
    ...tunables, publicUrl, from, smtpUrl, outboxDir: join(dataDir, 'outbox'), dataDir,
    databaseUrl: env.VIGIL_DATABASE_URL || undefined, databaseSchema, redisUrl: env.VIGIL_REDIS_URL || undefined, listenHost, listenPort,
  };
}

/** parseTunables validates the file's keys against TUNABLE_DEFAULTS (same type, integers >= 0). */
export function parseTunables(file: Record<string, unknown>, problems: string[]): AlertsTunables {
  const out: AlertsTunables = { ...TUNABLE_DEFAULTS };
  for (const [k, v] of Object.entries(file)) {
    if (!Object.hasOwn(TUNABLE_DEFAULTS, k)) {
      problems.push(`unknown key ${JSON.stringify(k)}`);
      continue;
    }
    const def = TUNABLE_DEFAULTS[k as keyof AlertsTunables];
    const ok = typeof def === 'number' ? typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 : typeof v === typeof def;
    if (!ok) problems.push(`${k}: want ${typeof def === 'number' ? 'a non-negative integer' : `a ${typeof def}`}, got ${JSON.stringify(v)}`);
    else (out as unknown as Record<string, unknown>)[k] = v;
  }
  const dkim = [out.dkimKeyFile, out.dkimDomain, out.dkimSelector].filter((s) => s !== '').length;
  if (dkim !== 0 && dkim !== 3) problems.push('dkimKeyFile, dkimDomain and dkimSelector: set all three or none');
  if (!out.entryLink.includes('{index}')) problems.push('entryLink: want a template with {index}');
  if (out.bounceAddress !== '' && !/^[A-Za-z0-9._-]{1,40}@[A-Za-z0-9.-]{1,200}$/.test(out.bounceAddress)) problems.push(`bounceAddress: want local@domain (letters, digits, '.', '_', '-'), got ${JSON.stringify(out.bounceAddress)}`);
  if (out.bounceListen !== '') {
    if (out.bounceAddress === '') problems.push('bounceListen: needs bounceAddress');
    parseListen(out.bounceListen, problems, 'bounceListen');
  }
  for (const k of ['pollIntervalMs', 'findingsBatch', 'sendConcurrency', 'mailMaxAttempts', 'webhookMaxAttempts', 'webhookTimeoutMs', 'webhookDisableAfterFailures'] as const) {
    if (out[k] < 1) problems.push(`${k}: want at least 1`);
  }
  return out;
}

/** mailDomainOf returns the domain of a From address, lowercased, or undefined when there is none. */
export function mailDomainOf(from: string): string | undefined {
  const m = /([^\s<>@]+)@([A-Za-z0-9.-]+)>?\s*$/.exec(from);
  return m ? m[2]!.toLowerCase() : undefined;
}


/**
 * defaultAlertsConfig is the configuration `vigil up` starts alerts with: every default, mail as
 * .eml files in <dataDir>/outbox unless `smtpUrl` is given, links under `publicUrl` (the URL the
 * router is mounted at, e.g. "http://127.0.0.1:8080/alerts").
 */
export function defaultAlertsConfig(opts: { publicUrl: string; dataDir: string; from?: string; smtpUrl?: string }): AlertsConfig {
  return {
    ...TUNABLE_DEFAULTS,
    publicUrl: opts.publicUrl.replace(/\/+$/, ''),
    from: opts.from ?? 'Vigil alerts <alerts@localhost>',
    smtpUrl: opts.smtpUrl,
    outboxDir: join(resolve(opts.dataDir), 'outbox'),
  };
}
