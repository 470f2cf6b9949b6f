// `vigil up`: argument parsing only; up/main.ts runs it.
import type { Command } from 'commander';
import { closeOnSignal, commandFailure, type CommandFailure } from '../platform/cli.ts';
import { DEFAULT_UP_DATA_DIR, DEFAULT_UP_HOST, DEFAULT_UP_PORT } from '../up/config.ts';
import { isUpError } from '../up/errors.ts';
import { runUp } from '../up/main.ts';

const fail: CommandFailure = commandFailure('up', (err) => isUpError(err, 'invalid_config'));

/**
 * registerUpCommand adds `vigil up [--data DIR] [--port PORT] [--host HOST] [--origin ORIGIN]
 * [--demo]`: the log with its CA, TSA and development OIDC issuer, three witnesses (each its own key
 * and PGlite store), the monitor, search and alerts, in one process on one port, the log publishing
 * checkpoints two of the witnesses cosigned. With --demo a traffic generator signs artifacts and
 * trips an alert. It runs until SIGINT or SIGTERM; a restart on the same folder resumes with the
 * same keys.
 */
export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('run the network on embedded defaults in one process: the log with its CA, TSA and development OIDC issuer, three witnesses, the monitor, search and alerts (mail to <data>/outbox); writes <data>/up.json')
    .option('--data <dir>', 'data folder (keys and PGlite databases; reused on restart)', DEFAULT_UP_DATA_DIR)
    .option('--port <port>', 'HTTP port (0: any free port, printed)', String(DEFAULT_UP_PORT))
    .option('--host <host>', 'listen address', DEFAULT_UP_HOST)
    .option('--origin <origin>', "the log's origin for a new data folder (default localhost:<port>)")
    .option('--demo', 'also run a traffic generator: identities sign their packages, then an unexpected signer trips an alert (mail in <data>/outbox)')
    .action(async (opts: { data: string; port: string; host: string; origin?: string; demo?: boolean }) => {
      try {
        const running = await runUp({ data: opts.data, port: opts.port, host: opts.host, demo: opts.demo === true, ...(opts.origin !== undefined ? { origin: opts.origin } : {}) });
        closeOnSignal(running, fail);
      } catch (err) {
        fail(err);
      }
    });
}
