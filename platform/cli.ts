// cli.ts is what every `vigil <component> ...` command does around its work: fail with one line on
// stderr and an exit code (2 for a configuration the operator must fix, 1 otherwise), and serve
// until SIGINT or SIGTERM, then close and exit 0.

/** CommandFailure writes an error's message and exits; it never returns. */
export type CommandFailure = (err: unknown) => never;

/**
 * commandFailure returns the `fail` of `vigil <component>`: it writes "vigil <component>: <message>"
 * to stderr and exits 2 when isConfigError(err), else 1.
 */
export function commandFailure(component: string, isConfigError: (err: unknown) => boolean): CommandFailure {
  return (err) => {
    process.stderr.write(`vigil ${component}: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(isConfigError(err) ? 2 : 1);
  };
}

/**
 * closeOnSignal closes `running` on the first SIGINT or SIGTERM and exits 0 once it is closed, or
 * through `fail` when closing fails.
 */
export function closeOnSignal(running: { close(): Promise<void> }, fail: CommandFailure): void {
  const shutdown = () => {
    running.close().then(() => process.exit(0), fail);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
