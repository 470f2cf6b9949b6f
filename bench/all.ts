// all.ts runs every bench script in bench/ as a child process, one after another, and prints one
// table of what they measured: rates, latencies (p50/p99) and ratios, with the machine noted.
// A bench script is any bench/*.ts that no other bench file imports (harness.ts and the *-bench.ts
// sections of tlog.ts are modules, not scripts), so a new script joins without editing this file.
//
//   npm run bench:all                                every script at its own default length
//   VIGIL_BENCH_SHORT=1 npm run bench:all            short runs (a few minutes in all): sets the
//                                                    scripts' knobs below unless already set
//   npm run bench:all -- log witness                 only the scripts named
//   npm run bench:all -- --markdown                  the table as Markdown (for docs)
//   VIGIL_BENCH_TIMEOUT_S=600                        per-script limit (default 1800 s, short 600 s)
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineLine } from './harness.ts';

const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO_ROOT = join(BENCH_DIR, '..');

/** SHORT_ENV are the knobs VIGIL_BENCH_SHORT=1 sets, each only when the caller has not set it. */
const SHORT_ENV: Record<string, string> = {
  VIGIL_BENCH_MS: '200', // harness.ts measure(): time per measurement
  VIGIL_BENCH_ROUNDS: '1', // monitor-rules.ts: interleaved rounds
  VIGIL_BENCH_STEPS: '60', // witness.ts: requests per connection
  VIGIL_BENCH_LOG_DSSE: '2000', // log.ts: requests per workload
  VIGIL_BENCH_LOG_HASHEDREKORD: '500',
  VIGIL_BENCH_LOG_CERT: '500',
  VIGIL_BENCH_LOG_CLIENTS: '256',
  VIGIL_BENCH_LOG_SIZES: '1000,20000',
  VIGIL_BENCH_ENTRIES: '2560', // monitor.ts: entries per run
  VIGIL_BENCH_PROCS: '1,2', // monitor.ts: worker processes
};

/** Row is one measurement of one script, merged from its rate line and its latency line. */
interface Row {
  script: string;
  section: string;
  name: string;
  rate?: string;
  p50Ms?: string;
  p99Ms?: string;
  ratio?: string;
}

/** ScriptRun is what one script printed and how it ended. */
interface ScriptRun {
  script: string;
  rows: Row[];
  notes: string[];
  seconds: number;
  failure?: string;
}

/** findBenchScripts lists bench/*.ts that no other bench file imports, less all.ts itself. */
export function findBenchScripts(dir: string = BENCH_DIR): string[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const imported = new Set<string>();
  for (const f of files) {
    for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/from '\.\/([\w.-]+\.ts)'/g)) imported.add(m[1]!);
  }
  return files.filter((f) => f !== 'all.ts' && !imported.has(f)).sort();
}

const RATE = /^ {2}(\S.*?)\s{2,}(\d[\d.]*) (M\/s|k\/s|\/s)(?:\s+\((.+)\))?$/;
const LATENCY = /^ {2}(\S.*?)\s+p50\s+([\d.]+)\s+p99\s+([\d.]+)\s*(.*)$/;

/**
 * parseBenchOutput reads a script's stdout: unindented lines are section titles; indented lines are
 * rate rows (printTable), latency rows (`p50 … p99 …`, merged into the rate row of the same name)
 * or notes. The machine line is dropped: the table prints it once.
 */
export function parseBenchOutput(script: string, stdout: string): { rows: Row[]; notes: string[] } {
  const rows: Row[] = [];
  const notes: string[] = [];
  let section = '';
  const machine = machineLine();
  for (const raw of stdout.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (line === '' || line === machine) continue;
    if (!line.startsWith(' ')) {
      section = line;
      continue;
    }
    const rate = RATE.exec(line);
    const latency = rate ? null : LATENCY.exec(line);
    if (rate) {
      const unit = rate[3] === 'M/s' ? 1e6 : rate[3] === 'k/s' ? 1e3 : 1;
      rows.push({ script, section, name: rate[1]!, rate: formatCount(Number(rate[2]) * unit), ...(rate[4] ? { ratio: rate[4] } : {}) });
    } else if (latency) {
      const row = rows.find((r) => r.name === latency[1]) ?? rows[rows.push({ script, section, name: latency[1]! }) - 1]!;
      row.p50Ms = latency[2];
      row.p99Ms = latency[3];
      if (latency[4]) row.ratio = [row.ratio, latency[4]].filter(Boolean).join('; ');
    } else notes.push(line.trim());
  }
  return { rows, notes };
}

function formatCount(perSec: number): string {
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(2)} M/s`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)} k/s`;
  return `${perSec.toFixed(0)} /s`;
}

function runScript(script: string, env: NodeJS.ProcessEnv, timeoutS: number): Promise<ScriptRun> {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', script)], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      process.stderr.write(chunk); // progress, as the script prints it
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const { rows, notes } = parseBenchOutput(basename(script, '.ts'), stdout);
      const seconds = (performance.now() - started) / 1000;
      const failure = code === 0 ? undefined : signal ? `stopped by ${signal} after ${seconds.toFixed(0)} s` : `exit code ${code}`;
      resolve({ script: basename(script, '.ts'), rows, notes, seconds, ...(failure ? { failure } : {}) });
    });
  });
}

const HEADERS = ['bench', 'measurement', 'rate', 'p50 ms', 'p99 ms', 'ratio / detail'];

function tableCells(runs: readonly ScriptRun[]): string[][] {
  const cells: string[][] = [];
  for (const run of runs) {
    let section = '';
    for (const r of run.rows) {
      if (r.section !== section) {
        section = r.section;
        cells.push([run.script, `[${section}]`, '', '', '', '']);
      }
      cells.push([run.script, r.name, r.rate ?? '', r.p50Ms ?? '', r.p99Ms ?? '', r.ratio ?? '']);
    }
    if (run.failure) cells.push([run.script, `FAILED: ${run.failure}`, '', '', '', '']);
  }
  return cells;
}

/** formatTable renders the runs as one aligned text table, or as Markdown. */
export function formatTable(runs: readonly ScriptRun[], markdown: boolean): string {
  const cells = tableCells(runs);
  if (markdown) {
    const esc = (s: string) => s.replace(/\|/g, '\\|');
    return [`| ${HEADERS.join(' | ')} |`, `|${HEADERS.map(() => ' --- ').join('|')}|`, ...cells.map((c) => `| ${c.map(esc).join(' | ')} |`)].join('\n');
  }
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...cells.map((c) => (i === 5 ? 0 : c[i]!.length))));
  const line = (c: string[]) => c.map((s, i) => (i === 2 || i === 3 || i === 4 ? s.padStart(widths[i]!) : i === 5 ? s : s.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(HEADERS), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const markdown = args.includes('--markdown');
  const only = args.filter((a) => !a.startsWith('--')).map((a) => a.replace(/\.ts$/, ''));
  const short = process.env.VIGIL_BENCH_SHORT === '1';
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (short) for (const [k, v] of Object.entries(SHORT_ENV)) env[k] ??= v;
  const timeoutS = Number(process.env.VIGIL_BENCH_TIMEOUT_S ?? (short ? 600 : 1800));
  const scripts = findBenchScripts().filter((s) => only.length === 0 || only.includes(basename(s, '.ts')));
  if (only.length > scripts.length) throw new Error(`no such bench script among ${findBenchScripts().join(', ')}: ${only.join(', ')}`);
  const runs: ScriptRun[] = [];
  for (const script of scripts) {
    process.stderr.write(`\n=== bench/${script} ===\n`);
    runs.push(await runScript(script, env, timeoutS));
  }
  const knobs = Object.keys(SHORT_ENV).filter((k) => env[k] !== undefined).map((k) => `${k}=${env[k]}`);
  console.log(`\nVigil benchmarks: ${machineLine()}`);
  console.log(`mode: ${short ? 'short (VIGIL_BENCH_SHORT=1)' : 'full'}${knobs.length > 0 ? `; ${knobs.join(' ')}` : ''}`);
  console.log(`scripts: ${runs.map((r) => `${r.script} ${r.seconds.toFixed(0)} s`).join(', ')}\n`);
  console.log(formatTable(runs, markdown));
  const notes = runs.flatMap((r) => r.notes.map((n) => `  ${r.script}: ${n}`));
  if (notes.length > 0) console.log(`\nNotes\n${notes.join('\n')}`);
  if (runs.some((r) => r.failure)) process.exitCode = 1;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) await main();
