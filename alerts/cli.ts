// `vigil alerts ...`: serve the subscribe/manage pages with a worker, or run a worker alone.
// Argument parsing only; main.ts runs them.
import type { Command } from 'commander';
import { closeOnSignal, commandFailure, type CommandFailure } from '../platform/cli.ts';
import { DEFAULT_DATA_DIR } from './config.ts';
import { isAlertsError } from './errors.ts';
import { runAlerts } from './main.ts';

const fail: CommandFailure = commandFailure('alerts', (err) => isAlertsError(err, 'invalid_config'));

/**
 * registerAlertsCommands adds `vigil alerts serve [--config FILE] [--data DIR] [--listen HOST:PORT]`
 * and `vigil alerts work [--config FILE] [--data DIR] [--listen HOST:PORT]` (the worker's /metrics
 * only, when given); see docs/alerts.md for the environment.
 */
export function registerAlertsCommands(program: Command): void {
  const alerts = program.command('alerts').description('alert subscriptions (double opt-in), mail, webhooks and digests');
  for (const role of ['serve', 'work'] as const) {
    const cmd = alerts
      .command(role)
      .description(role === 'serve' ? 'serve the subscribe and manage pages and API, and deliver alerts' : 'deliver alerts only (scale out with VIGIL_REDIS_URL)')
      .option('--config <file>', 'optional JSON file of tunables (see alerts/config.ts)')
      .option('--data <dir>', 'data folder (PGlite database, mail outbox)', DEFAULT_DATA_DIR);
    if (role === 'serve') cmd.option('--listen <host:port>', 'listen address', '127.0.0.1:7390');
    else cmd.option('--listen <host:port>', 'serve /metrics at this address (default: no listener)');
    cmd.action(async (opts: { config?: string; data: string; listen?: string }) => {
      try {
        const running = await runAlerts(role, {
          dataDir: opts.data,
          ...(opts.config !== undefined ? { configFile: opts.config } : {}),
          ...(opts.listen !== undefined ? { listen: opts.listen } : {}),
        });
        closeOnSignal(running, fail);
      } catch (err) {
        fail(err);
      }
    });
  }
}
