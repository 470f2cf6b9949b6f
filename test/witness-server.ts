// A witness node served over loopback HTTP for tests: the real WitnessNode, createWitnessHandler and
// SQL store (PgWitnessStore on the Db the test opened, behind the cache as in main.ts), a fresh
// key, and a manual clock.
import express from 'express';
import type { Registry } from 'prom-client';
import { manualClock } from '../platform/clock.ts';
import type { Db } from '../platform/db.ts';
import { listen, type Listening } from '../platform/http.ts';
import { silentLogger } from '../platform/logger.ts';
import { createMetricsRegistry } from '../platform/metrics.ts';
import { newCosignatureSigner, newCosignatureVerifier, type CosignatureVerifier } from '../tlog/cosignature.ts';
import { generateEd25519Seed } from '../tlog/note-ed25519.ts';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_IN_FLIGHT } from '../witness/config.ts';
import { createWitnessHandler } from '../witness/http.ts';
import { newWitnessMetrics } from '../witness/metrics.ts';
import { LogRateLimiter } from '../witness/rate-limit.ts';
import { migrateWitnessDb } from '../witness/schema.ts';
import { CachedWitnessStore } from '../witness/store-cached.ts';
import { PgWitnessStore } from '../witness/store-pg.ts';
import type { WitnessStore } from '../witness/store.ts';
import { newFollowedLogs, type FollowedLogSpec } from '../witness/witness-config.ts';
import { WitnessNode } from '../witness/witness-node.ts';
import { TEST_WITNESS_START_MS } from './witness-log.ts';

/** TestWitnessServer is a listening witness and its parts. */
export interface TestWitnessServer {
  /** url is where the witness app is served (including the mount prefix, without a final slash). */
  readonly url: string;
  readonly node: WitnessNode;
  readonly store: PgWitnessStore;
  readonly verifier: CosignatureVerifier;
  readonly clock: ReturnType<typeof manualClock>;
  readonly registry: Registry;
  close(): Promise<void>;
}

/** TestWitnessOptions tune startTestWitnessServer; every field is optional. */
export interface TestWitnessOptions {
  name?: string;
  qpd?: ReadonlyMap<string, number>;
  maxBodyBytes?: number;
  maxInFlight?: number;
  /** wrapStore wraps the SQL store (to stall or fail it) under the cache, as main.ts stacks them. */
  wrapStore?: (s: WitnessStore) => WitnessStore;
  /** prefix mounts the app under this path of an outer app, as `vigil up` does. */
  prefix?: string;
}

let counter = 0;

/**
 * startTestWitnessServer serves a fresh witness (unique name, so several share one Db) following
 * `logs`, on 127.0.0.1 with a free port. The Db must be open; its witness migrations are applied.
 */
export async function startTestWitnessServer(db: Db, logs: readonly FollowedLogSpec[], opts: TestWitnessOptions = {}): Promise<TestWitnessServer> {
  await migrateWitnessDb(db);
  const name = opts.name ?? `witness-${process.pid}-${++counter}.example`;
  const signer = newCosignatureSigner(name, generateEd25519Seed());
  // The rows are scoped by a unique string, not the name: tests may reuse a vector's witness name.
  const store = new PgWitnessStore(db, `${name}#${++counter}`);
  const clock = manualClock(TEST_WITNESS_START_MS);
  const registry = createMetricsRegistry({}, false);
  const metrics = newWitnessMetrics(registry);
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const node = new WitnessNode(
    { maxBodyBytes, maxInFlight: opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT },
    {
      logs: newFollowedLogs(logs),
      store: new CachedWitnessStore(opts.wrapStore ? opts.wrapStore(store) : store),
      signer,
      clock,
      logger: silentLogger(),
      metrics,
      rateLimiter: new LogRateLimiter(opts.qpd ?? new Map(), clock),
    },
  );
  const handler = createWitnessHandler({ maxBodyBytes }, { node, logger: silentLogger(), registry });
  const server: Listening = opts.prefix === undefined
    ? await listen(handler, '127.0.0.1', 0)
    : await listen(express().use(opts.prefix, handler), '127.0.0.1', 0);
  return {
    url: `${server.url}${opts.prefix ?? ''}`,
    node,
    store,
    verifier: newCosignatureVerifier(name, signer.publicKey),
    clock,
    registry,
    close: () => server.close(),
  };
}
