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
    console.log(`  ${r.name.padEnd(56)} ${formatRate(r.opsPerSec).padStart(12)}${ratio}`);
  }
}

/**
 * timeOnce runs fn (synchronous or async) a single time and returns the rate of its `ops`
 * operations, for setup-sized work (building a 1M-leaf tree) that is too slow to loop.
 */
export async function timeOnce(name: string, ops: number, fn: () => unknown): Promise<BenchResult> {
  const start = performance.now();
  await fn();
  const elapsed = performance.now() - start;
  return { name, opsPerSec: (ops * 1000) / elapsed, iterations: 1 };
}

/**
 * repeat returns a function that calls op(i) n times with a running counter, so that measure()
 * (which awaits every call) times sub-microsecond operations without its own overhead dominating.
 * Pass the same n as measure's `batch`.
 */
export function repeat(n: number, op: (i: number) => unknown): () => void {
  let i = 0;
  return () => {
    for (let k = 0; k < n; k++) op(i++);
  };
}

/** Comparison names two results of the same primitive, e.g. node:crypto and @noble, by short labels. */
export interface Comparison {
  primitive: string;
  a: { label: string; result: BenchResult };
  b: { label: string; result: BenchResult };
}

/** printSummary prints, for each comparison, which side is faster and by what factor. */
export function printSummary(title: string, comparisons: readonly Comparison[]): void {
  console.log(`\n${title}`);
  for (const { primitive, a, b } of comparisons) {
    const [win, lose] = a.result.opsPerSec >= b.result.opsPerSec ? [a, b] : [b, a];
    const ratio = (win.result.opsPerSec / lose.result.opsPerSec).toFixed(2);
    console.log(`  ${primitive.padEnd(36)} ${win.label} ${ratio}× faster than ${lose.label}`);
  }
}

/** SectionReport is what one bench section hands to the final summary. */
export interface SectionReport {
  comparisons: Comparison[];
  /** notes are one-line findings that are not a two-way race, e.g. a flatness ratio vs its target. */
  notes: string[];
}
