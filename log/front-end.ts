// The log's front end: the certificate authority (log/ca/), the RFC 3161 timestamp authority
// (log/tsa/) and, only when asked for, the development OIDC issuer. Their keys live in the log's
// data folder, next to the checkpoint key:
//
//   <dataDir>/ca/    ca-root.key, ca-intermediate.key, ct.key, ca-chain.pem (log/ca/keys.ts), and
//                    dev-oidc.key only with --dev-oidc (log/ca/dev-oidc.ts)
//   <dataDir>/tsa/   tsa-signing.key, tsa-root.key, tsa-chain.pem (log/tsa/tsa.ts)
//
// `vigil log init` creates them with the log, `vigil log init-ca` creates the missing ones for a
// log made before the CA existed, and `vigil up` creates them on its first run. `vigil log serve`
// never creates keys: replicas of one log share a database, and each would make its own CA.
// The router mounts, in order: the development issuer at /oidc (loopback URLs only), the CA
// (signingCert, trustBundle, configuration, trusted_root.json) and the TSA (/api/v1/timestamp).
// It goes before the log's app, which ends in a JSON 404.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Router } from 'express';
import type { Registry } from 'prom-client';
import type { Clock } from '../platform/clock.ts';
import type { Logger } from '../platform/logger.ts';
import type { Ed25519Signer } from '../tlog/note-ed25519.ts';
import { createDevOidcRouter, DEV_OIDC_KEY_FILE, initDevOidcKey, loadDevOidcKey, type DevOidcKey } from './ca/dev-oidc.ts';
import { createCaRouter } from './ca/http.ts';
import { CA_CHAIN_FILE, initCa, loadCa, type Ca } from './ca/keys.ts';
import type { IssuerConfig } from './ca/oidc.ts';
import { formatTrustedRoot, type TrustedRootJson } from './ca/trusted-root.ts';
import { LogError } from './errors.ts';
import type { CertificateTrustConfig } from './kinds/certificate-chain.ts';
import type { Log } from './log.ts';
import { createTsaRouter } from './tsa/http.ts';
import { initTsa, loadTsa, TSA_CHAIN_FILE, tsaCertificateAuthority, type Tsa } from './tsa/tsa.ts';

/** CA_SUBDIR and TSA_SUBDIR are the CA's and the TSA's folders inside the log's data folder. */
export const CA_SUBDIR = 'ca';
export const TSA_SUBDIR = 'tsa';
/** DEV_OIDC_PATH is where the development issuer is mounted; its issuer URL is `<url>/oidc`. */
export const DEV_OIDC_PATH = '/oidc';
/** DEV_OIDC_CLIENT_ID is the audience of development tokens (the CA's usual client ID). */
export const DEV_OIDC_CLIENT_ID = 'sigstore';

/** FrontEndKeys are the loaded CA, TSA and (when enabled) development issuer key. */
export interface FrontEndKeys {
  readonly caDir: string;
  readonly tsaDir: string;
  readonly ca: Ca;
  readonly tsa: Tsa;
  readonly devOidcKey: DevOidcKey | undefined;
}

function parts(dataDir: string, devOidc: boolean): { what: string; file: string }[] {
  const caDir = join(dataDir, CA_SUBDIR);
  const list = [
    { what: 'CA', file: join(caDir, CA_CHAIN_FILE) },
    { what: 'TSA', file: join(dataDir, TSA_SUBDIR, TSA_CHAIN_FILE) },
  ];
  if (devOidc) list.push({ what: 'development OIDC issuer key', file: join(caDir, DEV_OIDC_KEY_FILE) });
  return list;
}

/** missingFrontEnd names the parts (with the file that shows them) not created in `dataDir`. */
export function missingFrontEnd(dataDir: string, devOidc: boolean): string[] {
  return parts(dataDir, devOidc).filter((p) => !existsSync(p.file)).map((p) => `${p.what} (${p.file})`);
}

/**
 * ensureFrontEnd creates whichever of the CA, the TSA and (with devOidc) the development issuer
 * key is missing in `dataDir`, loads them all, and says what it created. A part whose folder holds
 * some files but not its chain (an init that crashed half-way) is refused by initCa/initTsa.
 */
export async function ensureFrontEnd(dataDir: string, opts: { devOidc: boolean }): Promise<{ keys: FrontEndKeys; created: string[] }> {
  const caDir = join(dataDir, CA_SUBDIR);
  const tsaDir = join(dataDir, TSA_SUBDIR);
  const created: string[] = [];
  if (!existsSync(join(caDir, CA_CHAIN_FILE))) {
    await initCa(caDir);
    created.push(`the CA in ${caDir}`);
  }
  if (!existsSync(join(tsaDir, TSA_CHAIN_FILE))) {
    await initTsa(tsaDir);
    created.push(`the TSA in ${tsaDir}`);
  }
  if (opts.devOidc && !existsSync(join(caDir, DEV_OIDC_KEY_FILE))) {
    await initDevOidcKey(caDir);
    created.push(`the development OIDC issuer key ${join(caDir, DEV_OIDC_KEY_FILE)}`);
  }
  return { keys: await loadFrontEnd(dataDir, opts), created };
}

/**
 * loadFrontEnd loads the CA, the TSA and (with devOidc) the development issuer key of `dataDir`.
 * When any is missing it throws LogError 'invalid_config' saying how to create them.
 */
export async function loadFrontEnd(dataDir: string, opts: { devOidc: boolean }): Promise<FrontEndKeys> {
  const missing = missingFrontEnd(dataDir, opts.devOidc);
  if (missing.length > 0) {
    const flag = opts.devOidc ? ' --dev-oidc' : '';
    throw new LogError('invalid_config', `the log's data folder ${dataDir} has no ${missing.join(', ')}; create them with \`vigil log init-ca --data ${dataDir}${flag}\` (logs made before the CA existed need this once)`);
  }
  const caDir = join(dataDir, CA_SUBDIR);
  const tsaDir = join(dataDir, TSA_SUBDIR);
  return {
    caDir,
    tsaDir,
    ca: loadCa(caDir),
    tsa: loadTsa(tsaDir),
    devOidcKey: opts.devOidc ? await loadDevOidcKey(caDir) : undefined,
  };
}

/** certificateTrustOf is the log's certificate trust: the CA's chain, plus any extra roots (--ca-roots). */
export function certificateTrustOf(ca: Ca, extra?: CertificateTrustConfig | null): CertificateTrustConfig {
  return { roots: [ca.chain[1], ...(extra?.roots ?? [])], intermediates: [ca.chain[0], ...(extra?.intermediates ?? [])] };
}

/** FrontEndConfig says where the front end is reached and whom it trusts. */
export interface FrontEndConfig {
  /** url is the server's URL (loopback for the development issuer), without a final slash. */
  readonly url: string;
  /** issuers are the operator's OIDC issuers (log/ca/config.ts loadIssuersFile). */
  readonly issuers: readonly IssuerConfig[];
  /** extraIssuers are further development issuers mounted by the caller (`vigil up --demo`). */
  readonly extraIssuers?: readonly IssuerConfig[];
}

/** FrontEndDeps are the keys, the log the CA logs precertificates in, and process resources. */
export interface FrontEndDeps {
  readonly keys: FrontEndKeys;
  readonly log: Pick<Log, 'addEntry'>;
  readonly signer: Ed25519Signer;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: Registry;
}

/** FrontEnd is the mounted router, the trusted root it serves, and the dev issuer's URL if enabled. */
export interface FrontEnd {
  readonly router: Router;
  readonly trustedRoot: () => TrustedRootJson;
  readonly devIssuerUrl: string | undefined;
  readonly issuers: readonly IssuerConfig[];
}

/**
 * createFrontEnd builds the front end's router (see the top of this file). With a development
 * issuer key, the issuer is mounted at `<url>/oidc` and trusted by the CA (kind email); its URL must
 * be loopback (CaError 'invalid_config' otherwise).
 */
export function createFrontEnd(config: FrontEndConfig, deps: FrontEndDeps): FrontEnd {
  const { ca, tsa, devOidcKey } = deps.keys;
  const router = express.Router();
  let devIssuerUrl: string | undefined;
  const issuers: IssuerConfig[] = [];
  if (devOidcKey !== undefined) {
    devIssuerUrl = `${config.url}${DEV_OIDC_PATH}`;
    router.use(createDevOidcRouter({ issuerUrl: devIssuerUrl, pathPrefix: DEV_OIDC_PATH, audience: DEV_OIDC_CLIENT_ID }, { key: devOidcKey, clock: deps.clock }));
    issuers.push({ issuerUrl: devIssuerUrl, clientId: DEV_OIDC_CLIENT_ID, kind: 'email' });
  }
  issuers.push(...(config.extraIssuers ?? []), ...config.issuers);
  const timestampAuthorities = [tsaCertificateAuthority(tsa)];
  const trustedRoot = () => formatTrustedRoot({ ca, log: { origin: deps.signer.name, publicKey: deps.signer.publicKey }, timestampAuthorities });
  const metrics = deps.metrics === undefined ? {} : { metrics: deps.metrics };
  router.use(createCaRouter({ oidc: { issuers } }, { ca, log: deps.log, trustedRoot, clock: deps.clock, logger: deps.logger.child({ component: 'ca' }), ...metrics }));
  router.use(createTsaRouter(tsa, { clock: deps.clock, logger: deps.logger.child({ component: 'tsa' }), ...metrics }));
  return { router, trustedRoot, devIssuerUrl, issuers };
}
