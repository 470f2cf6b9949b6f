import type { Command } from 'commander';

/**
 * registerUpCommand adds `vigil up`, which will run the whole network on embedded defaults. Until
 * the log, witnesses and monitor land it says plainly what exists, and exits non-zero so that no
 * script mistakes it for a running network.
 */
export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('run the whole network on embedded defaults (log, CA, witnesses, monitor, alerts)')
    .option('--data <dir>', 'data folder', './vigil-data')
    .option('--port <port>', 'HTTP port', '8080')
    .action(() => {
      process.stderr.write(
        [
          'vigil up: the network is not built yet. What exists today:',
          '  - tlog/: RFC 6962 Merkle trees and proofs, C2SP signed notes, checkpoints,',
          '    cosignatures, tlog-tiles, quorum policies (run `npm test` to see them checked',
          '    against the ecosystem vectors, `npm run bench` for their speed)',
          '  - `vigil key generate` and `vigil note verify` (see `vigil --help`)',
          'The log, witnesses, monitor and alerts arrive with the next issues.',
          '',
        ].join('\n'),
      );
      process.exitCode = 1;
    });
}
