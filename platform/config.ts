// config.ts: the pieces every component's loadConfig shares. Each pushes a problem (a line naming
// the field) instead of throwing, so a config reports every problem at once (STYLE.md).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * readConfigFile reads an optional JSON config file that must hold an object. It returns the object
 * ({} when there is no file or it is unusable, with a problem pushed) and the folder relative paths
 * in it are resolved against (the file's, else the working directory).
 */
export function readConfigFile(path: string | undefined, problems: string[]): { file: Record<string, unknown>; baseDir: string } {
  if (path === undefined) return { file: {}, baseDir: process.cwd() };
  const baseDir = dirname(resolve(path));
  try {
    const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) return { file: raw as Record<string, unknown>, baseDir };
    problems.push('the config file: want a JSON object');
  } catch (err) {
    problems.push(`couldn't read the config file ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { file: {}, baseDir };
}

/** parseListen parses HOST:PORT ([v6]:PORT allowed; port 0 picks a free one). */
export function parseListen(s: string, problems: string[], what = 'listen'): [string, number] {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+):(0|[1-9][0-9]{0,4})$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    problems.push(`${what}: want HOST:PORT, got ${JSON.stringify(s)}`);
    return ['127.0.0.1', 0];
  }
  return [m[1]!.replace(/^\[(.*)\]$/, '$1'), port];
}

/** optString reads an optional non-empty string field named `where`. */
export function optString(v: unknown, where: string, problems: string[]): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') {
    problems.push(`${where}: want a non-empty string`);
    return undefined;
  }
  return v;
}

/** optInt reads an optional integer field named `where`, in min..max. */
export function optInt(v: unknown, where: string, min: number, max: number, problems: string[]): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    problems.push(`${where}: want an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
    return undefined;
  }
  return v;
}
