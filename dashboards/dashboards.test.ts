// Every metric a Grafana dashboard or a Prometheus rule names must be one the code exports. The
// exported names come from the real components started in this process the way `vigil log serve`
// and `vigil witness serve` start them (runLogServe, runWitnessServe, PGlite in temp folders, a log
// whose witness policy names the witness), scraped over loopback HTTP at /metrics.
// The rule files are also checked by `promtool check rules` (and `promtool test rules` on the unit
// tests beside them) when promtool is installed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runAlerts, type RunningAlerts } from '../alerts/main.ts';
import { runLogInit, runLogServe, type RunningLog } from '../log/main.ts';
import { runMonitor, type RunningMonitor } from '../monitor/main.ts';
import { REPO_ROOT } from '../test/vectors.ts';
import { runWitnessInit, runWitnessServe, type RunningWitness } from '../witness/main.ts';
import { isSyntheticMetric, labelValuesMetric, metricNamesInExposition, metricNamesInPromQL } from './promql-names.ts';

const GRAFANA_DIR = join(REPO_ROOT, 'dashboards', 'grafana');
const PROMETHEUS_DIR = join(REPO_ROOT, 'dashboards', 'prometheus');
const ENV = { VIGIL_DATABASE_URL: '', VIGIL_LOG_LEVEL: 'silent' };

/** UsedMetric is one metric name found in one expression of one file. */
interface UsedMetric {
  file: string;
  expr: string;
  name: string;
}

function dashboardFiles(): string[] {
  return readdirSync(GRAFANA_DIR).filter((f) => f.endsWith('.json')).sort();
}

function ruleFiles(): string[] {
  return readdirSync(PROMETHEUS_DIR).filter((f) => f.endsWith('.rules.yml')).sort();
}

// collectDashboardExprs walks a dashboard's JSON for panel targets (`expr`) and variable queries.
function collectDashboardExprs(node: unknown, out: string[]): void {
  if (Array.isArray(node)) for (const n of node) collectDashboardExprs(n, out);
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'expr' && typeof v === 'string') out.push(v);
      else if ((k === 'query' || k === 'definition') && typeof v === 'string' && v.includes('label_values')) out.push(v);
      else collectDashboardExprs(v, out);
    }
  }
}

function usedMetrics(): UsedMetric[] {
  const used: UsedMetric[] = [];
  for (const file of dashboardFiles()) {
    const exprs: string[] = [];
    collectDashboardExprs(JSON.parse(readFileSync(join(GRAFANA_DIR, file), 'utf8')), exprs);
    for (const expr of exprs) {
      const lv = expr.includes('label_values') ? labelValuesMetric(expr) : undefined;
      const names = lv !== undefined ? [lv] : metricNamesInPromQL(expr);
      for (const name of names) used.push({ file: `grafana/${file}`, expr, name });
    }
  }
  for (const file of ruleFiles()) {
    const doc = parseYaml(readFileSync(join(PROMETHEUS_DIR, file), 'utf8')) as { groups: { rules: { expr: string }[] }[] };
    for (const rule of doc.groups.flatMap((g) => g.rules)) {
      for (const name of metricNamesInPromQL(rule.expr)) used.push({ file: `prometheus/${file}`, expr: rule.expr, name });
    }
  }
  return used;
}

function hasPromtool(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('metricNamesInPromQL', () => {
  it('reads metric names and skips functions, keywords, labels, ranges and numbers', () => {
    expect(metricNamesInPromQL('histogram_quantile(0.99, sum by (le, route) (rate(a_bucket{component="log", x=~"$v"}[$__rate_interval])))')).toEqual(['a_bucket']);
    expect(metricNamesInPromQL('max by (log) (b) - on (log) group_left (witness) c offset 5m > 1e3')).toEqual(['b', 'c']);
    expect(metricNamesInPromQL('up{job="vigil-log"} == 0 and d unless ignoring (code) e')).toEqual(['d', 'e', 'up']);
  });

  it('reads the metric of a Grafana label_values query', () => {
    expect(labelValuesMetric('label_values(vigil_log_tree_size, log)')).toBe('vigil_log_tree_size');
    expect(labelValuesMetric('label_values(vigil_x{a="b"}, witness)')).toBe('vigil_x');
    expect(labelValuesMetric('query_result(up)')).toBeUndefined();
  });
});

/** GrafanaPanel is the part of a dashboard panel the well-formedness check reads. */
interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid: string };
  targets?: { expr: string; refId: string; datasource?: { uid: string } }[];
}

describe('Grafana dashboards', () => {
  it('are well-formed for file provisioning: unique uids and ids, panels on the grid, defined variables', () => {
    const uids = new Set<string>();
    for (const file of dashboardFiles()) {
      const d = JSON.parse(readFileSync(join(GRAFANA_DIR, file), 'utf8')) as { uid: string; title: string; panels: GrafanaPanel[]; templating: { list: { name: string }[] } };
      expect(uids.has(d.uid), `${file}: uid ${d.uid}`).toBe(false);
      uids.add(d.uid);
      expect(d.title).toMatch(/^Vigil \/ /);
      const vars = new Set(d.templating.list.map((v) => v.name));
      expect(vars.has('datasource'), file).toBe(true);
      const ids = d.panels.map((p) => p.id);
      expect(new Set(ids).size, `${file}: panel ids`).toBe(ids.length);
      for (const p of d.panels) {
        expect(p.gridPos.x + p.gridPos.w, `${file}: ${p.title}`).toBeLessThanOrEqual(24);
        if (p.type === 'row') continue;
        expect(p.datasource?.uid, `${file}: ${p.title}`).toBe('${datasource}');
        expect(p.targets?.length, `${file}: ${p.title} has queries`).toBeGreaterThan(0);
        expect(new Set(p.targets!.map((t) => t.refId)).size, `${file}: ${p.title} refIds`).toBe(p.targets!.length);
        for (const t of p.targets!) {
          // Every $variable a query uses must be defined (Grafana's built-ins start with $__).
          for (const m of t.expr.matchAll(/\$(\w+)/g)) if (!m[1]!.startsWith('__')) expect(vars.has(m[1]!), `${file}: ${p.title}: $${m[1]}`).toBe(true);
        }
      }
    }
  });
});

describe('dashboards and alert rules name only exported metrics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-dashboards-'));
  let log: RunningLog | undefined;
  let witness: RunningWitness | undefined;
  let monitor: RunningMonitor | undefined;
  let alerts: RunningAlerts | undefined;
  const exported = new Set<string>();
  const scraped: Record<string, Set<string>> = {};

  beforeAll(async () => {
    // The deployment of compose.yaml in miniature: a log whose policy names a witness that follows it.
    const logData = join(dir, 'log');
    const origin = 'log.vigil.test/dashboards';
    const { vkey: logVkey } = await runLogInit({ origin, dataDir: logData }, ENV);
    const { vkey: witnessVkey } = runWitnessInit({ name: 'witness.vigil.test/w1', dataDir: join(dir, 'w1') });
    writeFileSync(join(dir, 'w1.json'), JSON.stringify({ listen: '127.0.0.1:0', dataDir: 'w1', logs: [{ origin, vkeys: [logVkey] }] }));
    witness = await runWitnessServe({ configFile: join(dir, 'w1.json') }, ENV);
    writeFileSync(join(logData, 'witnesses.policy'), `witness w1 ${witnessVkey} ${witness.url}\nquorum w1\n`);
    writeFileSync(join(logData, 'log.json'), JSON.stringify({ listen: '127.0.0.1:0', witnessPolicy: 'witnesses.policy', verifyWorkers: 0, publishIntervalMs: 50 }));
    log = await runLogServe({ configFile: join(logData, 'log.json'), dataDir: logData }, ENV);
    const monitorLogs = [{ origin, url: `${log.url}/api/v2`, verifierKeys: [logVkey], entryFormat: 'rekor', startIndex: '0' }];
    writeFileSync(join(dir, 'monitor.json'), JSON.stringify({ logs: monitorLogs }));
    const monitorArgs = { config: join(dir, 'monitor.json'), dataDir: join(dir, 'monitor'), roles: { tail: true, work: true }, listen: '127.0.0.1:0' };
    monitor = await runMonitor(monitorArgs, { ...ENV, VIGIL_REDIS_URL: '' });
    alerts = await runAlerts('serve', { dataDir: join(dir, 'alerts'), listen: '127.0.0.1:0' }, { ...ENV, VIGIL_REDIS_URL: '', VIGIL_SMTP_URL: '' });
    for (const [component, url] of [['log', log.url], ['witness', witness.url], ['monitor', monitor.url!], ['alerts', alerts.url!]] as const) {
      const res = await fetch(`${url}/metrics`);
      expect(res.status).toBe(200);
      scraped[component] = metricNamesInExposition(await res.text());
    }
    for (const names of Object.values(scraped)) for (const name of names) exported.add(name);
  });

  afterAll(async () => {
    await alerts?.close();
    await monitor?.close();
    await log?.close();
    await witness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scrapes the components it checks against', () => {
    expect(scraped.log).toContain('vigil_log_tree_size');
    expect(scraped.log).toContain('vigil_log_witness_quorum_met');
    expect(scraped.log).toContain('process_cpu_seconds_total');
    expect(scraped.witness).toContain('vigil_witness_cosign_duration_seconds_bucket');
    expect(scraped.monitor).toContain('vigil_monitor_lag_seconds');
    expect(scraped.alerts).toContain('vigil_alerts_mails_total');
  });

  it('finds dashboards for the log, witnesses, monitor and alerts, and rules for each alert the issue names', () => {
    expect(dashboardFiles()).toEqual(['alerts.json', 'log.json', 'monitor.json', 'witness.json']);
    const alerts = ruleFiles().flatMap((f) => {
      const doc = parseYaml(readFileSync(join(PROMETHEUS_DIR, f), 'utf8')) as { groups: { rules: { alert: string }[] }[] };
      return doc.groups.flatMap((g) => g.rules.map((r) => r.alert));
    });
    expect(alerts).toEqual(expect.arrayContaining(['VigilLogStalled', 'VigilWitnessQuorumLost', 'VigilMonitorLagging', 'VigilSplitViewDetected']));
  });

  it('every metric name in a dashboard or a rule is exported by the code', () => {
    const used = usedMetrics();
    expect(used.length).toBeGreaterThan(40);
    const missing = used.filter((u) => !exported.has(u.name) && !isSyntheticMetric(u.name)).map((u) => `${u.file}: ${u.name} in ${u.expr}`);
    expect(missing).toEqual([]);
  });

  it('loads every rule file from prometheus.yml', () => {
    const config = parseYaml(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as { rule_files: string[] };
    expect(config.rule_files).toEqual(['*.rules.yml']);
    expect(ruleFiles()).toEqual(['log.rules.yml', 'monitor.rules.yml', 'witness.rules.yml']);
  });
});

describe.skipIf(!hasPromtool())('promtool (installed on this machine)', () => {
  it('accepts the rules and the Prometheus config, and the rules pass their unit tests', () => {
    const run = (args: string[]) => execFileSync('promtool', args, { cwd: PROMETHEUS_DIR, encoding: 'utf8', stdio: 'pipe' });
    run(['check', 'rules', ...ruleFiles()]);
    run(['check', 'config', 'prometheus.yml']);
    const tests = readdirSync(PROMETHEUS_DIR).filter((f) => f.endsWith('.rules-test.yml'));
    expect(tests.length).toBeGreaterThan(0);
    run(['test', 'rules', ...tests]);
  });
});
