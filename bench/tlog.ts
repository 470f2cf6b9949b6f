// tlog.ts benchmarks the tlog/ primitives on the log's hot paths and prints operations per second,
// node:crypto against @noble side by side, then a summary of which implementation wins each race,
// so that code chooses by measurement (DESIGN.md "Performance targets").
//
//   npm run bench                        about 1 s per measurement, ~80 s in all
//   VIGIL_BENCH_MS=200 npm run bench     shorter measurements (the 1M-leaf setup stays)
import { benchHashes } from './hash-bench.ts';
import { machineLine, printSummary, type SectionReport } from './harness.ts';
import { benchProofs } from './proof-bench.ts';
import { benchSignatures } from './signature-bench.ts';
import { benchTiles } from './tile-bench.ts';
import { benchTree } from './tree-bench.ts';

async function main(): Promise<void> {
  const started = performance.now();
  console.log(machineLine());
  console.log(`VIGIL_BENCH_MS=${process.env.VIGIL_BENCH_MS ?? '1000 (default)'}`);
  const reports: SectionReport[] = [];
  reports.push(await benchHashes());
  const { report, tree } = await benchTree();
  reports.push(report);
  reports.push(await benchProofs(tree));
  reports.push(await benchSignatures(tree.root, tree.size));
  reports.push(await benchTiles(tree));

  printSummary(
    'Summary: the faster implementation of each primitive',
    reports.flatMap((r) => r.comparisons),
  );
  for (const note of reports.flatMap((r) => r.notes)) console.log(`  ${note}`);
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

await main();
