// `vigil log ...`: the log operator's two commands. Argument parsing only; main.ts runs them.
import type { Command } from 'commander';
import { DEFAULT_DATA_DIR } from './config.ts';
import { isLogError } from './errors.ts';
import { runLogInit, runLogServe } from './main.ts';

function fail(err: unknown): never {
  process.stderr.write(`vigil log: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(isLogError(err, 'invalid_config') || isLogError(err, 'log_exists') ? 2 : 1);
}

/**
 * registerLogCommands adds `vigil log init --origin ORIGIN [--data DIR]` (creates the checkpoint
 * key and the log, prints the log's vkey) and `vigil log serve [--data DIR] [--listen HOST:PORT]
 * [--ca-roots PEM_FILE] [--config FILE]` (serves it until SIGINT or SIGTERM).
 */
export function registerLogCommands(program: Command): void {
  const log = program.command('log').description('the transparency log: Rekor-compatible writes, C2SP tiles and checkpoints');

  log
    .command('init')
    .description('create the checkpoint key and the log (refused if either exists) and print the log verifier key; storage is PostgreSQL when VIGIL_DATABASE_URL is set, else PGlite in the data folder')
    .requiredOption('--origin <origin>', "the log's origin, its URL prefix without the scheme, e.g. log.example.org/2026")
    .option('--data <dir>', 'data folder', DEFAULT_DATA_DIR)
    .action(async (opts: { origin: string; data: string }) => {
      try {
        const { keyFile, vkey } = await runLogInit({ origin: opts.origin, dataDir: opts.data });
        process.stderr.write(`created ${keyFile} and the log; give clients, witnesses and monitors this verifier key:\n`);
        process.stdout.write(`${vkey}\n`);
      } catch (err) {
        fail(err);
      }
    });

  log
    .command('serve')
    .description('serve the log; storage is PostgreSQL when VIGIL_DATABASE_URL is set (schema VIGIL_DATABASE_SCHEMA), else PGlite in the data folder')
    .option('--data <dir>', 'data folder (overrides the config)')
    .option('--listen <host:port>', 'listen address (overrides the config)')
    .option('--ca-roots <file>', 'PEM file of the CA roots and intermediates signing certificates must chain to (none: public-key entries only)')
    .option('--config <file>', 'optional JSON file of tunables and the witness policy file (see docs/log.md)')
    .action(async (opts: { data?: string; listen?: string; caRoots?: string; config?: string }) => {
      try {
        const running = await runLogServe({
          ...(opts.config !== undefined ? { configFile: opts.config } : {}),
          ...(opts.data !== undefined ? { dataDir: opts.data } : {}),
          ...(opts.listen !== undefined ? { listen: opts.listen } : {}),
          ...(opts.caRoots !== undefined ? { caRoots: opts.caRoots } : {}),
        });
        const shutdown = () => {
          running.close().then(() => process.exit(0), (err: unknown) => fail(err));
        };
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
      } catch (err) {
        fail(err);
      }
    });
}
