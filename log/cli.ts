// `vigil log ...`: the log operator's two commands. Argument parsing only; main.ts runs them.
import type { Command } from 'commander';
import { closeOnSignal, commandFailure, type CommandFailure } from '../platform/cli.ts';
import { DEFAULT_DATA_DIR } from './config.ts';
import { isLogError } from './errors.ts';
import { runLogInit, runLogInitCa, runLogServe } from './main.ts';

const fail: CommandFailure = commandFailure('log', (err) => isLogError(err, 'invalid_config') || isLogError(err, 'log_exists'));

/**
 * registerLogCommands adds `vigil log init --origin ORIGIN [--data DIR] [--dev-oidc]` (creates the
 * checkpoint key, the log, the CA and the TSA, prints the log's vkey), `vigil log init-ca [--data
 * DIR] [--dev-oidc]` (creates the CA and TSA of a log made without them) and `vigil log serve
 * [--data DIR] [--listen HOST:PORT] [--ca-roots PEM_FILE] [--oidc-issuers FILE] [--dev-oidc]
 * [--config FILE]` (serves the log and its front end until SIGINT or SIGTERM).
 */
export function registerLogCommands(program: Command): void {
  const log = program.command('log').description('the transparency log: Rekor-compatible writes, C2SP tiles and checkpoints');

  log
    .command('init')
    .description('create the checkpoint key, the log, the CA (<data>/ca) and the TSA (<data>/tsa) (refused if any exists) and print the log verifier key; storage is PostgreSQL when VIGIL_DATABASE_URL is set, else PGlite in the data folder')
    .requiredOption('--origin <origin>', "the log's origin, its URL prefix without the scheme, e.g. log.example.org/2026")
    .option('--data <dir>', 'data folder', DEFAULT_DATA_DIR)
    .option('--dev-oidc', 'also create the key of the development OIDC issuer (for `serve --dev-oidc`; development only)')
    .action(async (opts: { origin: string; data: string; devOidc?: boolean }) => {
      try {
        const { keyFile, vkey, created } = await runLogInit({ origin: opts.origin, dataDir: opts.data, devOidc: opts.devOidc === true });
        process.stderr.write(`created ${keyFile}, the log, ${created.join(', ')}; give clients, witnesses and monitors this verifier key:\n`);
        process.stdout.write(`${vkey}\n`);
      } catch (err) {
        fail(err);
      }
    });

  log
    .command('init-ca')
    .description('create whichever of the CA, the TSA and (with --dev-oidc) the development OIDC issuer key is missing in the data folder of an existing log')
    .option('--data <dir>', 'data folder', DEFAULT_DATA_DIR)
    .option('--dev-oidc', 'also create the development OIDC issuer key')
    .action(async (opts: { data: string; devOidc?: boolean }) => {
      try {
        const created = await runLogInitCa({ dataDir: opts.data, devOidc: opts.devOidc === true });
        process.stdout.write(created.length === 0 ? 'nothing to create: the CA and TSA exist\n' : `created ${created.join(', ')}\n`);
      } catch (err) {
        fail(err);
      }
    });

  log
    .command('serve')
    .description('serve the log; storage is PostgreSQL when VIGIL_DATABASE_URL is set (schema VIGIL_DATABASE_SCHEMA), else PGlite in the data folder')
    .option('--data <dir>', 'data folder (overrides the config)')
    .option('--listen <host:port>', 'listen address (overrides the config)')
    .option('--ca-roots <file>', "PEM file of further CA roots and intermediates signing certificates may chain to (besides the log's own CA)")
    .option('--oidc-issuers <file>', 'JSON list of the OIDC issuers the CA trusts (see docs/log.md)')
    .option('--dev-oidc', 'serve the development OIDC issuer at /oidc and trust it (loopback listen only; never in production)')
    .option('--config <file>', 'optional JSON file of tunables and the witness policy file (see docs/log.md)')
    .action(async (opts: { data?: string; listen?: string; caRoots?: string; oidcIssuers?: string; devOidc?: boolean; config?: string }) => {
      try {
        const running = await runLogServe({
          ...(opts.config !== undefined ? { configFile: opts.config } : {}),
          ...(opts.data !== undefined ? { dataDir: opts.data } : {}),
          ...(opts.listen !== undefined ? { listen: opts.listen } : {}),
          ...(opts.caRoots !== undefined ? { caRoots: opts.caRoots } : {}),
          ...(opts.oidcIssuers !== undefined ? { oidcIssuers: opts.oidcIssuers } : {}),
          ...(opts.devOidc === true ? { devOidc: true } : {}),
        });
        closeOnSignal(running, fail);
      } catch (err) {
        fail(err);
      }
    });
}
