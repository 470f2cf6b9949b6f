import type { Command } from 'commander';

/**
 * registerUpCommand adds `vigil up`, which will run the whole network on embedded defaults. Until
 * the log, witnesses and monitor are assembled into it, it says plainly what runs today.
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
          'vigil up: the whole network is not assembled yet. What runs today:',
          '  - `vigil witness init` / `vigil witness serve`: a C2SP witness node',
          '  - `vigil key generate`, `vigil note verify`: note keys and signed notes',
          '  - tlog/: Merkle trees, proofs, notes, checkpoints, cosignatures, tiles and policies,',
          '    checked against the ecosystem vectors by `npm test` (`npm run bench` for speed)',
          'The log, CA, monitor and alerts join `vigil up` as their issues land.',
          '',
        ].join('\n'),
      );
    });
}
