// The monitor follows logs of the real ecosystem (issue 5, "Done when" 3):
//  - the Tessera test log (../shared/vectors/tiles/tessera-testlog, transparency-dev/tessera @
//    testdata/log), served byte for byte: its checkpoint at size 5, then at size 15, proven
//    consistent from its own tiles, every entry checked against its level-0 tile;
//  - a Rekor v2 shaped log whose leaves are real log2025-1.rekor.sigstore.dev entries
//    (../shared/vectors/rekor/rekor-v2-inclusion.json, from sigstore/sigstore-js), parsed and
//    matched: a watch rule on the email identity of the Fulcio-certificate entry finds it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startHarness } from '../test/monitor-harness.ts';
import { EntryLog, serveFiles } from '../test/monitor-log.ts';
import { serviceAvailable } from '../test/services.ts';
import { b64, describeVectors, readVectorJson, vectorPath } from '../test/vectors.ts';
import { generateSignerKey } from '../tlog/note-key.ts';

const hasPostgres = await serviceAvailable('postgres');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function readTree(root: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.set(relative(root, p), new Uint8Array(readFileSync(p)));
    }
  };
  walk(root);
  return files;
}

describeVectors('monitor follows real-ecosystem logs', () => {
  it.skipIf(!hasPostgres)('follows the Tessera test log from size 5 to 15 (tiles/tessera-testlog)', async () => {
    const meta = readVectorJson('tiles/tessera-testlog/testlog.json');
    const files = readTree(vectorPath('tiles/tessera-testlog/log'));
    const served = new Map(files);
    served.set('checkpoint', files.get('checkpoint.5')!);
    const server = await serveFiles(served);
    const h = await startHarness({ origin: meta.log_origin, url: server.url, verifierKeys: [meta.vkey], entryFormat: 'opaque' });
    cleanups.push(() => server.close(), () => h.close());
    expect((await h.poll()).result).toBe('advanced');
    expect(await h.cursor()).toBe(5n);
    served.set('checkpoint', files.get('checkpoint')!);
    expect((await h.poll()).result).toBe('advanced');
    expect(await h.cursor()).toBe(15n);
    expect(await h.findings()).toEqual([]);
    const verified = await h.metrics.entriesVerified.get();
    expect(verified.values[0]!.value).toBe(15);
  });

  it.skipIf(!hasPostgres)('the Tessera test log with one entry changed in its bundle is log misbehaviour', async () => {
    const meta = readVectorJson('tiles/tessera-testlog/testlog.json');
    const files = readTree(vectorPath('tiles/tessera-testlog/log'));
    const bundle = files.get('tile/entries/000.p/15')!.slice();
    bundle[bundle.length - 1] = bundle[bundle.length - 1]! ^ 1; // last byte of entry 14 ("fivten")
    files.set('tile/entries/000.p/15', bundle);
    const server = await serveFiles(files);
    const h = await startHarness({ origin: meta.log_origin, url: server.url, verifierKeys: [meta.vkey], entryFormat: 'opaque' });
    cleanups.push(() => server.close(), () => h.close());
    await h.poll();
    expect(await h.cursor()).toBe(0n);
    const [f] = await h.findings();
    expect(f).toMatchObject({ kind: 'log-misbehaviour' });
    expect(f!.details).toMatchObject({ check: 'bad_entries' });
  });

  it.skipIf(!hasPostgres)('follows a Rekor v2 shaped log of real log2025-1 leaves and matches their identities (rekor/rekor-v2-inclusion.json)', async () => {
    const file = readVectorJson('rekor/rekor-v2-inclusion.json');
    const leaves: Uint8Array[] = file.vectors.map((v: { entry_b64: string }) => b64(v.entry_b64));
    const origin: string = file.log.origin;
    // The same leaves in a log of our own, signed with a key made here (we hold no Rekor key).
    const log = new EntryLog(origin, generateSignerKey(origin)).append([...leaves, ...leaves.map((l) => l.slice(0, 10))]);
    const server = await serveFiles(log.files);
    const rules = {
      rules: [{ id: 'brian', subscriberId: 's', target: 'identity' as const, match: 'exact' as const, pattern: 'brian@dehamer.com' }],
      policies: [],
    };
    const h = await startHarness({ origin, url: server.url, verifierKeys: [log.key.vkey], rules });
    cleanups.push(() => server.close(), () => h.close());
    expect((await h.poll()).result).toBe('advanced');
    expect(await h.cursor()).toBe(6n);
    const findings = await h.findings();
    expect(findings.map((f) => [f.kind, f.index, f.ruleId])).toEqual([['identity-used', 1n, 'r:brian']]);
    expect((findings[0]!.details.event as { identity: { san: string } }).identity.san).toBe('brian@dehamer.com');
    // The three cut leaves cannot be parsed: verified and counted, not indexed, no finding.
    expect((await h.metrics.entriesUnparsed.get()).values[0]!.value).toBe(3);
  });
});
