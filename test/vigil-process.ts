// The real CLI in child processes, as operators run it: `node --import tsx bin/vigil.ts ...` with
// cwd = the repository root. runVigil runs a one-shot command (init) to completion; startVigil
// starts a long-lived one (serve, up, work) and waits for its ready line (`listening on <url>` by
// default); spawnVigil starts one without waiting. Every process started here is remembered until
// it exits, so a test file's afterAll(killVigilProcesses) leaves none behind when a test fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './vectors.ts';

const VIGIL = ['--import', 'tsx', 'bin/vigil.ts'];
const running = new Set<ChildProcess>();

/** LISTENING_LINE is the line `vigil ... serve` and `vigil up` print once they accept requests. */
export const LISTENING_LINE = /^listening on (http:\/\/\S+)$/;

/** VigilProcess is a started CLI process. */
export interface VigilProcess {
  readonly child: ChildProcess;
  /** url is the ready line's first capture group (the listening URL by default), else ''. */
  readonly url: string;
  /** exited resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  /** kill sends `signal` (default SIGKILL) and resolves with the exit code once it exited. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** output is everything the process wrote so far, stderr and stdout, for failure messages. */
  output(): string;
}

/** envFor is the child's environment: ours, then `env` (an undefined value removes a variable). */
function envFor(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...process.env, ...env };
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return out;
}

/**
 * runVigil runs `vigil <args>` to completion with `env` added to ours, and resolves with its stdout;
 * it rejects with the exit code and stderr when the command fails.
 */
export function runVigil(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...VIGIL, ...args], { cwd: REPO_ROOT, env: envFor(env) });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`vigil ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

/** spawnVigil starts `vigil <args>` (VIGIL_LOG_LEVEL=warn unless `env` says otherwise) without waiting. */
export function spawnVigil(args: readonly string[], env: NodeJS.ProcessEnv = {}): VigilProcess {
  return started(args, env).proc;
}

function started(args: readonly string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [...VIGIL, ...args], { cwd: REPO_ROOT, env: envFor({ VIGIL_LOG_LEVEL: 'warn', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => (output += `${line}\n`));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    running.delete(child);
    resolve(code);
  }));
  const proc = {
    child,
    url: '',
    exited,
    output: () => output,
    kill: async (signal: NodeJS.Signals = 'SIGKILL') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  return { proc, lines };
}

/**
 * startVigil starts `vigil <args>` (VIGIL_LOG_LEVEL=warn unless `env` says otherwise) and resolves
 * once a stdout line matches `ready` (default LISTENING_LINE); it rejects, with the output, when the
 * process exits first.
 */
export function startVigil(args: readonly string[], env: NodeJS.ProcessEnv = {}, ready: RegExp = LISTENING_LINE): Promise<VigilProcess> {
  const { proc, lines } = started(args, env);
  return new Promise((resolve, reject) => {
    void proc.exited.then((code) => reject(new Error(`vigil ${args.join(' ')} exited ${code} before it was ready: ${proc.output()}`)));
    proc.child.once('error', reject);
    lines.on('line', (line) => {
      const m = ready.exec(line);
      if (m !== null) resolve({ ...proc, url: m[1] ?? '' });
    });
  });
}

/** killVigilProcesses SIGKILLs every process started here that is still running (for afterAll). */
export function killVigilProcesses(): void {
  for (const child of running) child.kill('SIGKILL');
}

/**
 * freePort finds a free loopback port, for a process that must keep its URL across restarts. It
 * draws from below the kernel's ephemeral range (ip_local_port_range, 32768-60999 by default):
 * a port taken there with bind(0) and released could be handed to any outgoing connection (tests
 * open many) before the child binds it; below the range only an explicit bind can take it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canBind(port)) return port;
  }
  throw new Error('no free loopback port in 20000-31999 after 50 tries');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
