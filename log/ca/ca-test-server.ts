// ca-test-server.ts (test helper) serves a whole Vigil front end on loopback for the CA tests: a
// log (startLog over an in-memory PGlite, trusting the CA), the CA router, the development OIDC
// issuer at /oidc, and GET /api/v1/trusted_root.json; optionally a TSA router and its trusted-root
// entry. Everything is real: HTTP, the database, the keys in a temporary folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express, { type Router } from 'express';
import { Registry } from 'prom-client';
import { systemClock, type Clock } from '../../platform/clock.ts';
import { listen } from '../../platform/http.ts';
import { silentLogger } from '../../platform/logger.ts';
import { openTestPglite } from '../../test/db.ts';
import { generateSignerKey } from '../../tlog/note-key.ts';
import type { Ed25519Signer } from '../../tlog/note-ed25519.ts';
import { DEFAULT_MAX_REQUEST_BYTES } from '../kinds/entry.ts';
import { loadCertificateTrust } from '../kinds/certificate-chain.ts';
import { initLog } from '../log-state.ts';
import { startLog, type StartedLog } from '../main.ts';
import { createDevOidcRouter, initDevOidcKey, type DevOidcKey } from './dev-oidc.ts';
import { createCaRouter } from './http.ts';
import { initCa, type Ca } from './keys.ts';
import type { IssuerConfig, OidcConfig } from './oidc.ts';
import { formatTrustedRoot, type TimestampAuthorityJson, type TrustedRootJson } from './trusted-root.ts';

/** CaTestServer is a running front end. */
export interface CaTestServer {
  readonly url: string;
  /** issuerUrl is the development issuer's URL (`<url>/oidc`). */
  readonly issuerUrl: string;
  readonly ca: Ca;
  readonly caDir: string;
  readonly devKey: DevOidcKey;
  readonly signer: Ed25519Signer;
  readonly started: StartedLog;
  /** jwksFetches counts GET /oidc/jwks requests (the JWKS cache's refreshes). */
  jwksFetches(): number;
  trustedRoot(): TrustedRootJson;
  close(): Promise<void>;
}

/** CaTestServerOptions adds issuers, OIDC tunables and a TSA. */
export interface CaTestServerOptions {
  /** issuers are extra issuers; the dev issuer (kind email, client ID "sigstore") is always first. */
  readonly issuers?: (issuerUrl: string) => IssuerConfig[];
  readonly oidc?: Omit<OidcConfig, 'issuers'>;
  /** routers are mounted before the CA (e.g. a second dev issuer, a TSA). */
  readonly routers?: (url: string, caDir: string) => Promise<Router[]>;
  readonly timestampAuthorities?: () => TimestampAuthorityJson[];
  readonly clock?: Clock;
  /** signer is the log's key (default: a fresh one), so witnesses can follow the log before it starts. */
  readonly signer?: Ed25519Signer;
  /** witnessPolicy is the log's witness policy (default: none; see log/main.ts startLog). */
  readonly witnessPolicy?: string;
}

/** startCaTestServer starts the front end on 127.0.0.1 with a fresh CA, log and dev issuer. */
export async function startCaTestServer(opts: CaTestServerOptions = {}): Promise<CaTestServer> {
  const clock = opts.clock ?? systemClock;
  const dir = mkdtempSync(join(tmpdir(), 'vigil-ca-'));
  const caDir = join(dir, 'ca');
  const ca = await initCa(caDir);
  const devKey = await initDevOidcKey(caDir);
  const { db, drop } = await openTestPglite();
  const signer = opts.signer ?? generateSignerKey('log.vigil.test/ca').signer;
  await initLog(db, { origin: signer.name, signer, clock });
  const trust = loadCertificateTrust({ roots: [ca.chain[1]], intermediates: [ca.chain[0]] });
  const started = await startLog(
    { maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES, retryAfterSeconds: 1, maxBatchEntries: 4096, maxBatchDelayMs: 5, maxPendingEntries: 32_768, maxPendingBytes: 64 << 20,
      ...(opts.witnessPolicy === undefined ? {} : { witnessPolicy: opts.witnessPolicy, publishIntervalMs: 50, witnessBackoffMaxMs: 500 }) },
    { db, signer, trust, logger: silentLogger(), registry: new Registry(), clock },
  );
  const outer = express();
  let jwksFetches = 0;
  outer.use((req, _res, next) => {
    if (req.path === '/oidc/jwks') jwksFetches++;
    next();
  });
  const server = await listen(outer, '127.0.0.1', 0);
  const issuerUrl = `${server.url}/oidc`;
  const trustedRoot = () => formatTrustedRoot({ ca, log: { origin: signer.name, publicKey: signer.publicKey }, timestampAuthorities: opts.timestampAuthorities?.() ?? [] });
  outer.use(createDevOidcRouter({ issuerUrl }, { key: devKey, clock }));
  for (const r of (await opts.routers?.(server.url, caDir)) ?? []) outer.use(r);
  const issuers = [{ issuerUrl, clientId: 'sigstore', kind: 'email' as const }, ...(opts.issuers?.(server.url) ?? [])];
  outer.use(createCaRouter({ oidc: { ...opts.oidc, issuers } }, { ca, log: started.log, trustedRoot, clock, logger: silentLogger() }));
  outer.use(started.app);
  return {
    url: server.url, issuerUrl, ca, caDir, devKey, signer, started,
    jwksFetches: () => jwksFetches,
    trustedRoot,
    async close() {
      await started.close();
      await server.close();
      await drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** fetchDevToken asks the development issuer for a token. */
export async function fetchDevToken(issuerUrl: string, body: unknown): Promise<string> {
  const res = await fetch(`${issuerUrl}/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`dev issuer answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { id_token: string }).id_token;
}
