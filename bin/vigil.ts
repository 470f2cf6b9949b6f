#!/usr/bin/env -S npx tsx
// vigil.ts is the one CLI. Each component adds its subcommands here; the logic lives in the
// component folders, and this file only parses arguments and calls one function per command.
import { Command } from 'commander';
import { registerKeyCommands } from './key-commands.ts';
import { registerUpCommand } from './up-command.ts';
import { registerWitnessCommands } from '../witness/cli.ts';
import { registerLogCommands } from '../log/cli.ts';
import { registerAlertsCommands } from '../alerts/cli.ts';
import { registerMonitorCommands } from '../monitor/cli.ts';
import { registerSearchCommands } from '../monitor/search-cli.ts';
import { registerSignCommands } from './sign-commands.ts';

const program = new Command()
  .name('vigil')
  .description('Vigil: a public transparency log with a CA front end, a witness network and monitors.')
  .version('0.1.0')
  .showHelpAfterError();

registerUpCommand(program);
registerKeyCommands(program);
registerWitnessCommands(program);
registerLogCommands(program);
registerAlertsCommands(program);
registerMonitorCommands(program);
registerSearchCommands(program);
registerSignCommands(program);

await program.parseAsync(process.argv);
