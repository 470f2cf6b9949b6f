// harness.ts times a function in a loop and prints rates, with the machine noted, for the bench
// scripts. Timing lives here and never in tests.
import os from 'node:os';

/** BenchResult is one measured operation. */
export interface BenchResult {
  name: string;
  opsPerSec: number;
  iterations: number;
}

/**
 * measure runs fn (synchronous or async) repeatedly for at least minMs after a warm-up and returns
 * its rate. fn may do `batch` operations per call; the rate counts operations.
 */
export async function measure(
  name: string,
  fn: () => unknown,
  opts: { minMs?: number; batch?: number } = {},
): Promise<BenchResult> {
  const minMs = opts.minMs ?? Number(process.env.VIGIL_BENCH_MS ?? 1000);
  const batch = opts.batch ?? 1;
  const warmEnd = performance.now() + Math.min(200, minMs / 4);
  while (performance.now() < warmEnd) await fn();
  let iterations = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < 16; i++) await fn();
    iterations += 16;
    elapsed = performance.now() - start;
  } while (elapsed < minMs);
  return { name, opsPerSec: (iterations * batch * 1000) / elapsed, iterations };
}

/** formatRate prints a rate with a unit prefix, e.g. 1.23 M/s. */
export function formatRate(opsPerSec: number): string {
  if (opsPerSec >= 1e6) return `${(opsPerSec / 1e6).toFixed(2)} M/s`;
  if (opsPerSec >= 1e3) return `${(opsPerSec / 1e3).toFixed(1)} k/s`;
  return `${opsPerSec.toFixed(0)} /s`;
}

/** machineLine describes the hardware the numbers were taken on. */
export function machineLine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

/**
 * printTable prints results as aligned rows; `pairs` adds a ratio column comparing each result
 * with the one named as its baseline.
 */
export function printTable(title: string, results: BenchResult[], baselines: Record<string, string> = {}): void {
  console.log(`\n${title}`);
  const byName = new Map(results.map((r) => [r.name, r]));
  for (const r of results) {
    const base = baselines[r.name] ? byName.get(baselines[r.name]!) : undefined;
    const ratio = base ? `  (${(r.opsPerSec / base.opsPerSec).toFixed(1)}× ${base.name})` : '';
    console.log(`  ${r.name.padEnd(48)} ${formatRate(r.opsPerSec).padStart(12)}${ratio}`);
  }
}
