// harness.ts times a function in a loop and prints rates, with the machine noted, for the bench
// scripts; and runs a vigil server in a child process for the loopback-HTTP benches (its CPU time
// read from /proc, requests posted over keep-alive agents, latency quantiles). Timing lives here
// and never in tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { createInterface } from 'node:readline';
import type { Queryable } from '../platform/db.ts';
import { REPO_ROOT } from '../test/vectors.ts';

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

/** Served is a server in a child process: its URL, its CPU time so far, and how to stop it. */
export interface Served {
  url: string;
  cpuMs(): number;
  stop(): Promise<void>;
}

/** processCpuMs reads a process's user + system CPU time in milliseconds from /proc (Linux). */
export function processCpuMs(pid: number): number {
  // Fields 14 and 15 of /proc/<pid>/stat are utime and stime in clock ticks (100 Hz on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/**
 * pgBackendCpuMs sums the CPU time (user + system, ms) of the PostgreSQL server processes serving
 * the connections named `applicationName` (pg_stat_activity), read from /proc: the database's
 * share of a workload, apart from whatever else the server does. Read it before the pool closes.
 */
export async function pgBackendCpuMs(db: Queryable, applicationName: string): Promise<number> {
  const rows = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [applicationName]);
  let ms = 0;
  for (const r of rows) {
    try {
      ms += processCpuMs(r.pid);
    } catch {
      // The backend exited between the query and the read: its time is lost, as for any ended process.
    }
  }
  return ms;
}

/** stopChild sends SIGTERM (a clean exit, which writes a --cpu-prof profile) and waits for the exit. */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** runVigil runs a one-shot `vigil <args>` (init) with `env` added, output discarded. */
export function runVigil(args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', 'bin/vigil.ts', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: 'ignore' });
    c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vigil ${args.join(' ')} exited ${code}`))));
  });
}

/**
 * serveVigil starts `vigil <args>` (node flags `nodeArgs` first, stderr shown) and resolves once
 * it prints `listening on <url>`; stop() SIGTERMs it, waits, then runs `cleanup`.
 */
export async function serveVigil(args: readonly string[], env: NodeJS.ProcessEnv, opts: { nodeArgs?: readonly string[]; cleanup?: () => void } = {}): Promise<Served> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', 'bin/vigil.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, VIGIL_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`vigil ${args.join(' ')} exited ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^listening on (\S+)$/.exec(line);
      if (m) resolve(m[1]!);
    });
  });
  return {
    url,
    cpuMs: () => processCpuMs(child.pid!),
    stop: async () => {
      await stopChild(child);
      opts.cleanup?.();
    },
  };
}

/** postBody POSTs `body` over a keep-alive agent, drains the answer and resolves with its status. */
export function postBody(agent: http.Agent, url: URL, body: Buffer, headers: http.OutgoingHttpHeaders = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': body.length } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** latencyQuantiles sorts `latencies` (ms) in place and returns their p50 and p99. */
export function latencyQuantiles(latencies: number[]): { p50Ms: number; p99Ms: number } {
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return { p50Ms: q(0.5), p99Ms: q(0.99) };
}
