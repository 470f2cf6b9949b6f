// The tailer and the range worker together on real PostgreSQL, against a tlog-tiles log served on
// loopback (test/monitor-log.ts): an honest log gives only the findings its rules ask for; each
// kind of misbehaviour gives its finding, with the signed notes as evidence, and the cursor stops.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeEntryBundle, parseEntryBundle } from '../tlog/entry-bundle.ts';
import { generateSignerKey } from '../tlog/note-key.ts';
import { formatEntriesPath } from '../tlog/tile.ts';
import { serviceAvailable } from '../test/services.ts';
import { startHarness, type MonitorHarness } from '../test/monitor-harness.ts';
import {
  EntryLog,
  keyFingerprint,
  newTestKey,
  newTestWitness,
  serveFiles,
  signedLeaves,
  witnessFiles,
  type FileServer,
  type TestKey,
} from '../test/monitor-log.ts';
import type { RuleSet } from './rules.ts';

const hasPostgres = await serviceAvailable('postgres');
const ORIGIN = 'log.monitor.test/a';

let watched: TestKey;
let other: TestKey;
let watchedLeaves: Uint8Array[];
let otherLeaves: Uint8Array[];
let rules: RuleSet;

beforeAll(async () => {
  watched = newTestKey('P-256');
  other = newTestKey('P-256');
  watchedLeaves = signedLeaves(watched, 20);
  otherLeaves = signedLeaves(other, 700);
  rules = { rules: [{ id: 'k1', subscriberId: 's1', target: 'key', match: 'exact', pattern: await keyFingerprint(watched) }], policies: [] };
});

// mixed returns n leaves, with the watched key's leaves at the given positions.
function mixed(n: number, watchedAt: number[], offset = 0): Uint8Array[] {
  const out = otherLeaves.slice(offset, offset + n);
  watchedAt.forEach((p, i) => {
    out[p] = watchedLeaves[i]!;
  });
  return out;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function follow(log: EntryLog, extra: { witnessPolicy?: string; witnessUrls?: string[] } = {}): Promise<{ h: MonitorHarness; server: FileServer }> {
  const server = await serveFiles(log.files);
  const h = await startHarness({ origin: ORIGIN, url: server.url, verifierKeys: [log.key.vkey], rules, ...extra });
  cleanups.push(() => server.close(), () => h.close());
  return { h, server };
}

describe.skipIf(!hasPostgres)('monitor: tailer and workers on PostgreSQL', () => {
  it('follows an honest log across partial bundles: only the rule findings, cursor at the head', async () => {
    const log = new EntryLog(ORIGIN).append(mixed(300, [3, 257]));
    const { h } = await follow(log);
    expect((await h.poll()).result).toBe('advanced');
    expect(await h.cursor()).toBe(300n);
    // Grow past the partial bundle: [300, 512) is read from the now full bundle 1.
    log.append(mixed(300, [100, 299], 300));
    expect((await h.poll()).result).toBe('advanced');
    expect(await h.cursor()).toBe(600n);
    expect((await h.poll()).result).toBe('up_to_date');
    const findings = await h.findings();
    expect(findings.map((f) => [f.kind, f.index])).toEqual(
      expect.arrayContaining([['key-used', 3n], ['key-used', 257n], ['key-used', 400n], ['key-used', 599n]]),
    );
    expect(findings).toHaveLength(4);
    expect(findings.every((f) => f.ruleId === 'r:k1' && f.subscriberId === 's1')).toBe(true);
    expect(await h.head()).toBe(600n);
    // Every entry is in the search index, written in its range's transaction.
    const indexed = await h.db.query<{ n: bigint }>('SELECT count(*) AS n FROM monitor_search_entries');
    expect(indexed[0]!.n).toBe(600n);
  });

  it('an honest log without rules gives no finding at all', async () => {
    const log = new EntryLog(ORIGIN).append(mixed(260, [1]));
    const server = await serveFiles(log.files);
    const h = await startHarness({ origin: ORIGIN, url: server.url, verifierKeys: [log.key.vkey] });
    cleanups.push(() => server.close(), () => h.close());
    expect((await h.poll()).result).toBe('advanced');
    expect(await h.cursor()).toBe(260n);
    expect(await h.findings()).toEqual([]);
  });

  it('a forged entry: log-misbehaviour, the range fails and the cursor stops; a healed bundle is retried', async () => {
    const log = new EntryLog(ORIGIN).append(mixed(600, [10, 300]));
    const { h, server } = await follow(log);
    // Bundle 1 is served with entry 44 swapped for a leaf the log never logged.
    const path = formatEntriesPath({ index: 1n, width: 256 });
    const forged = parseEntryBundle(log.files.get(path)!);
    forged[44] = otherLeaves[650]!;
    server.override.set(path, encodeEntryBundle(forged));
    expect((await h.poll()).result).toBe('advanced');
    expect(await h.cursor()).toBe(256n);
    const findings = await h.findings();
    const bad = findings.filter((f) => f.kind === 'log-misbehaviour');
    expect(bad).toHaveLength(1);
    expect(bad[0]!.details).toMatchObject({ check: 'bad_entries' });
    expect((bad[0]!.details.notes as { note: string }[])[0]!.note).toBe(log.checkpointNote(600n, []));
    // No finding from the unverified range: entry 300's match waits for a verified bundle.
    expect(findings.filter((f) => f.kind === 'key-used').map((f) => f.index)).toEqual([10n]);
    // The bundle heals; after requeueAfterMs the tailer retries the failed range.
    server.override.clear();
    h.clock.advance(61_000);
    await h.poll();
    expect(await h.cursor()).toBe(600n);
    expect((await h.findings()).filter((f) => f.kind === 'key-used').map((f) => f.index).sort()).toEqual([10n, 300n]);
    expect((await h.findings()).filter((f) => f.kind === 'log-misbehaviour')).toHaveLength(1);
  });

  it('a rewritten history: log-misbehaviour with both signed notes, nothing recorded past the old head', async () => {
    const log = new EntryLog(ORIGIN).append(mixed(300, []));
    const { h, server } = await follow(log);
    await h.poll();
    const oldNote = (await h.db.query<{ note: string }>('SELECT note FROM monitor_checkpoints'))[0]!.note;
    const fork = log.fork(200).append(mixed(150, [0], 400));
    server.files = fork.files;
    const out = await h.poll();
    expect(out.result).toBe('halted');
    const [f, ...rest] = await h.findings();
    expect(rest).toEqual([]);
    expect(f!.kind).toBe('log-misbehaviour');
    expect(f!.details.check).toBe('inconsistent');
    const notes = (f!.details.notes as { note: string }[]).map((n) => n.note);
    expect(notes).toContain(oldNote);
    expect(notes).toContain(new TextDecoder().decode(fork.files.get('checkpoint')));
    expect(await h.head()).toBe(300n);
    expect(await h.cursor()).toBe(300n);
    // Polling again records no second finding for the same two notes.
    expect((await h.poll()).result).toBe('halted');
    expect(await h.findings()).toHaveLength(1);
  });

  it('two checkpoints of one size with different roots from the log itself are inconsistent', async () => {
    const log = new EntryLog(ORIGIN).append(mixed(300, []));
    const { h, server } = await follow(log);
    await h.poll();
    server.files = log.fork(100).append(mixed(200, [], 400)).files;
    expect((await h.poll()).result).toBe('halted');
    const [f] = await h.findings();
    expect(f!.details).toMatchObject({ check: 'inconsistent' });
    expect(String(f!.summary)).toContain('size 300');
  });

  it('a checkpoint with a bad signature: log-misbehaviour, no checkpoint stored, no range', async () => {
    const log = new EntryLog(ORIGIN).append(mixed(100, []));
    const { h } = await follow(log);
    const impostor = new EntryLog(ORIGIN, generateSignerKey(ORIGIN)).append(mixed(100, []));
    log.files.set('checkpoint', impostor.files.get('checkpoint')!);
    expect((await h.poll()).result).toBe('halted');
    const [f] = await h.findings();
    expect(f).toMatchObject({ kind: 'log-misbehaviour', index: null, ruleId: null });
    expect(f!.details.check).toBe('bad_signature');
    expect(await h.head()).toBeUndefined();
    expect(await h.cursor()).toBeUndefined();
  });

  it('a checkpoint without the witness quorum: a health finding, and no advance until the quorum is there', async () => {
    const w1 = newTestWitness('w1.test');
    const w2 = newTestWitness('w2.test');
    const policy = `witness w1 ${w1.vkey}\nwitness w2 ${w2.vkey}\ngroup both all w1 w2\nquorum both\n`;
    const log = new EntryLog(ORIGIN, undefined, [w1]).append(mixed(100, [5]));
    const { h } = await follow(log, { witnessPolicy: policy });
    expect((await h.poll()).result).toBe('halted');
    const [f] = await h.findings();
    expect(f).toMatchObject({ kind: 'health' });
    expect(f!.details).toMatchObject({ check: 'no_quorum', cosignedBy: ['w1'] });
    expect(await h.cursor()).toBeUndefined();
    log.cosigners = [w1, w2];
    log.publish(100n);
    expect((await h.poll()).result).toBe('advanced');
    expect(await h.cursor()).toBe(100n);
  });

  it('a split view shown to a witness: log-misbehaviour with both notes, and the tailer does not advance', async () => {
    const log = new EntryLog(ORIGIN).append(mixed(300, []));
    const otherView = log.fork(250).append(mixed(50, [], 500));
    const witness = await serveFiles(witnessFiles(ORIGIN, otherView.checkpointNote(300n)), 'w');
    cleanups.push(() => witness.close());
    const { h } = await follow(log, { witnessUrls: [witness.url] });
    expect((await h.poll()).result).toBe('halted');
    const [f] = await h.findings();
    expect(f!.details).toMatchObject({ check: 'split_view' });
    const sources = (f!.details.notes as { source: string }[]).map((n) => n.source);
    expect(sources).toContain(witness.url);
    expect(await h.head()).toBeUndefined();
  });

  it('a witness that saw an older, consistent checkpoint is no finding; an inconsistent older one is', async () => {
    const log = new EntryLog(ORIGIN).append(mixed(200, []));
    const honestOld = log.checkpointNote(200n);
    log.append(mixed(100, [], 200));
    const witness = await serveFiles(witnessFiles(ORIGIN, honestOld), 'w');
    cleanups.push(() => witness.close());
    const { h } = await follow(log, { witnessUrls: [witness.url] });
    expect((await h.poll()).result).toBe('advanced');
    expect(await h.findings()).toEqual([]);
    witness.files = witnessFiles(ORIGIN, log.fork(150).append(mixed(50, [], 600)).checkpointNote(200n));
    expect((await h.poll()).result).toBe('halted');
    expect((await h.findings())[0]!.details).toMatchObject({ check: 'split_view' });
  });

  it('a log that stops answering: a health finding once unreachableAfterMs has passed, one per outage', async () => {
    const log = new EntryLog(ORIGIN).append(mixed(10, []));
    const { h, server } = await follow(log);
    await h.poll();
    server.override.set('checkpoint', 503);
    expect((await h.poll()).result).toBe('unreachable');
    expect(await h.findings()).toEqual([]);
    h.clock.advance(600_001);
    await h.poll();
    h.clock.advance(1000);
    await h.poll();
    const findings = await h.findings();
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ kind: 'health' });
    expect(findings[0]!.details).toMatchObject({ check: 'unreachable', lastSize: '10' });
  });
});

describe('monitor on PGlite (embedded)', () => {
  it('follows a log and records rule findings', async () => {
    const log = new EntryLog(ORIGIN).append(mixed(40, [7]));
    const server = await serveFiles(log.files);
    const h = await startHarness({ origin: ORIGIN, url: server.url, verifierKeys: [log.key.vkey], rules, database: 'pglite' });
    cleanups.push(() => server.close(), () => h.close());
    expect((await h.poll()).result).toBe('advanced');
    expect(await h.cursor()).toBe(40n);
    expect((await h.findings()).map((f) => f.index)).toEqual([7n]);
  });
});
