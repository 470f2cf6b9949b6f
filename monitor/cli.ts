// `vigil monitor ...`: tail, work, run (both, embedded when there is no Redis) and backfill.
// Argument parsing only; main.ts and backfill.ts do the work.
import type { Command } from 'commander';
import { closeOnSignal, commandFailure, type CommandFailure } from '../platform/cli.ts';
import { openQueue } from '../platform/queue.ts';
import { backfillProgress, indexAtTime, startBackfill } from './backfill.ts';
import { loadConfig } from './config.ts';
import { isMonitorError, MonitorError } from './errors.ts';
import { MONITOR_QUEUE_NAME, openMonitorDb, runMonitor, type MonitorRoles } from './main.ts';
import { migrateMonitor } from './schema.ts';
import type { RangeJob } from './state.ts';

const fail: CommandFailure = commandFailure('monitor', (err) => isMonitorError(err, 'invalid_config'));

interface RunOpts {
  config?: string;
  data?: string;
  listen?: string;
  concurrency?: string;
}

async function run(roles: MonitorRoles, opts: RunOpts): Promise<void> {
  try {
    const concurrency = opts.concurrency === undefined ? undefined : Number(opts.concurrency);
    if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) {
      throw new MonitorError('invalid_config', '--concurrency: want an integer ≥ 1');
    }
    const running = await runMonitor({
      roles,
      ...(opts.config !== undefined ? { config: opts.config } : {}),
      ...(opts.data !== undefined ? { dataDir: opts.data } : {}),
      ...(opts.listen !== undefined ? { listen: opts.listen } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
    });
    process.stdout.write(`monitor running (${[roles.tail && 'tail', roles.work && 'work'].filter(Boolean).join(' + ')})${running.url ? `, metrics at ${running.url}/metrics, search at ${running.url}/api/v1/search` : ''}\n`);
    closeOnSignal(running, fail);
  } catch (err) {
    fail(err);
  }
}

interface BackfillOpts {
  config?: string;
  data?: string;
  log: string;
  fromIndex?: string;
  fromTime?: string;
  wait: boolean;
}

// backfill enqueues the ranges and, with --wait, prints a progress line until they are done.
async function backfill(opts: BackfillOpts): Promise<void> {
  const config = loadConfig(process.env, { ...(opts.config !== undefined ? { config: opts.config } : {}), ...(opts.data !== undefined ? { dataDir: opts.data } : {}) });
  if (!config.logs.some((l) => l.origin === opts.log)) throw new MonitorError('unknown_log', `no log ${JSON.stringify(opts.log)} in the config`);
  if ((opts.fromIndex === undefined) === (opts.fromTime === undefined)) throw new MonitorError('invalid_config', 'give one of --from-index and --from-time');
  if (config.redisUrl === undefined) throw new MonitorError('invalid_config', 'backfill enqueues jobs for running workers: set VIGIL_REDIS_URL (embedded mode: use --start-index in the config)');
  const db = await openMonitorDb(config);
  const queue = await openQueue<RangeJob>({ name: MONITOR_QUEUE_NAME, redisUrl: config.redisUrl, prefix: config.redisPrefix });
  try {
    await migrateMonitor(db);
    let from: bigint;
    if (opts.fromIndex !== undefined) {
      if (!/^(0|[1-9][0-9]{0,19})$/.test(opts.fromIndex)) throw new MonitorError('invalid_config', '--from-index: want a decimal index');
      from = BigInt(opts.fromIndex);
    } else {
      const t = new Date(opts.fromTime!);
      if (Number.isNaN(t.getTime())) throw new MonitorError('invalid_config', '--from-time: want an ISO 8601 time');
      from = await indexAtTime(db, opts.log, t);
    }
    const plan = await startBackfill(db, queue, opts.log, from, { entriesPerJob: config.entriesPerJob, now: new Date() });
    process.stdout.write(`backfill ${plan.origin}: entries [${plan.from}, ${plan.to}) in ${plan.ranges} ranges enqueued\n`);
    while (opts.wait) {
      const p = await backfillProgress(db, plan.origin, plan.from, plan.to);
      const pct = p.total === 0n ? 100 : Number((p.done * 10000n) / p.total) / 100;
      const width = 30;
      const bar = '#'.repeat(Math.round((pct / 100) * width)).padEnd(width, '.');
      process.stderr.write(`\r[${bar}] ${p.done}/${p.total} entries (${pct.toFixed(1)}%)`);
      if (p.done >= p.total) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (opts.wait) process.stderr.write('\n');
  } finally {
    await queue.close();
    await db.close();
  }
}

/**
 * registerMonitorCommands adds `vigil monitor tail|work|run [--config FILE] [--data DIR]
 * [--listen HOST:PORT]` and `vigil monitor backfill --log ORIGIN (--from-index N | --from-time
 * ISO) [--wait]`. The config file is described in monitor/config.ts and docs/monitor.md.
 */
export function registerMonitorCommands(program: Command): void {
  const monitor = program.command('monitor').description('follow tlog-tiles logs: verify every checkpoint and entry, index them, match watch rules');
  const common = (c: Command) =>
    c
      .option('--config <file>', 'monitor config JSON (or VIGIL_MONITOR_CONFIG)')
      .option('--data <dir>', 'data folder for PGlite when VIGIL_DATABASE_URL is not set')
      .option('--listen <host:port>', 'serve /metrics and the search API (/api/v1/search) on this address');
  common(monitor.command('tail').description('tail the configured logs (one active tailer per log, elected in Redis; needs VIGIL_REDIS_URL)')).action((o: RunOpts) =>
    run({ tail: true, work: false }, o),
  );
  common(monitor.command('work').description('run range jobs from the queue (any number of processes; needs VIGIL_REDIS_URL)'))
    .option('--concurrency <n>', 'range jobs at once in this process')
    .action((o: RunOpts) => run({ tail: false, work: true }, o));
  common(monitor.command('run').description('tail and work in one process; without VIGIL_REDIS_URL the queue is in process (embedded)'))
    .option('--concurrency <n>', 'range jobs at once in this process')
    .action((o: RunOpts) => run({ tail: true, work: true }, o));
  monitor
    .command('backfill')
    .description('process a log again from an index or a time (workers must be running); --wait shows progress')
    .option('--config <file>', 'monitor config JSON (or VIGIL_MONITOR_CONFIG)')
    .option('--data <dir>', 'data folder for PGlite when VIGIL_DATABASE_URL is not set')
    .requiredOption('--log <origin>', 'the origin of a configured log')
    .option('--from-index <n>', 'first entry index')
    .option('--from-time <iso>', 'first time (mapped through the checkpoints the monitor verified)')
    .option('--wait', 'wait for the backfill to finish, with a progress line', false)
    .action((o: BackfillOpts) => backfill(o).catch(fail));
}
