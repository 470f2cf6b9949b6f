// `vigil witness ...`: the witness operator's two commands. Argument parsing only; main.ts runs them.
import type { Command } from 'commander';
import { closeOnSignal, commandFailure, type CommandFailure } from '../platform/cli.ts';
import { DEFAULT_DATA_DIR } from './config.ts';
import { isWitnessError } from './errors.ts';
import { runWitnessInit, runWitnessServe } from './main.ts';

const fail: CommandFailure = commandFailure('witness', (err) => isWitnessError(err, 'invalid_config'));

/**
 * registerWitnessCommands adds `vigil witness init --name NAME [--data DIR]` (creates the key,
 * prints the cosigner vkey) and `vigil witness serve --config FILE [--data DIR] [--listen
 * HOST:PORT]` (runs the node until SIGINT or SIGTERM).
 */
export function registerWitnessCommands(program: Command): void {
  const witness = program.command('witness').description('a witness node (C2SP tlog-witness): cosigns checkpoints of the logs it follows');

  witness
    .command('init')
    .description('create the witness key in the data folder (refused if it exists) and print its verifier key')
    .requiredOption('--name <name>', 'witness name, e.g. witness.example.org (the key name of its cosignatures)')
    .option('--data <dir>', 'data folder', DEFAULT_DATA_DIR)
    .action((opts: { name: string; data: string }) => {
      try {
        const { keyFile, vkey } = runWitnessInit({ name: opts.name, dataDir: opts.data });
        process.stderr.write(`created ${keyFile}; give logs and clients this verifier key:\n`);
        process.stdout.write(`${vkey}\n`);
      } catch (err) {
        fail(err);
      }
    });

  witness
    .command('serve')
    .description('serve add-checkpoint and the cosigned checkpoints; storage is PostgreSQL when VIGIL_DATABASE_URL is set, else PGlite in the data folder')
    .requiredOption('--config <file>', 'witness config (JSON; see witness/config.ts)')
    .option('--data <dir>', 'data folder (overrides the config)')
    .option('--listen <host:port>', 'listen address (overrides the config)')
    .action(async (opts: { config: string; data?: string; listen?: string }) => {
      try {
        const running = await runWitnessServe({
          configFile: opts.config,
          ...(opts.data !== undefined ? { dataDir: opts.data } : {}),
          ...(opts.listen !== undefined ? { listen: opts.listen } : {}),
        });
        closeOnSignal(running, fail);
      } catch (err) {
        fail(err);
      }
    });
}
