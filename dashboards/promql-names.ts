// promql-names.ts reads the metric names out of PromQL expressions and out of
// Prometheus text exposition, so that dashboards/dashboards.test.ts can check every name a dashboard or
// an alert rule uses against what the running components export.

// PromQL keywords and aggregation modifiers that look like identifiers but name no metric.
const KEYWORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'atan2',
  'inf', 'nan',
]);
// Series that Prometheus itself makes for every scrape target.
const SYNTHETIC = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added']);

/** isSyntheticMetric tells whether Prometheus, not the scraped process, produces the series `name`. */
export function isSyntheticMetric(name: string): boolean {
  return SYNTHETIC.has(name);
}

/**
 * metricNamesInPromQL returns the metric names an expression selects: every identifier that is not
 * a function call, a keyword, a label name (in `{...}` matchers or in `by (...)`-style clauses), a
 * string, a range or a duration. Grafana variables ($__rate_interval, $log) sit only in ranges and
 * matchers, which are dropped before identifiers are read.
 */
export function metricNamesInPromQL(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/\{[^{}]*\}/g, ' ');
  s = s.replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  s = s.replace(/\boffset\s+-?[0-9a-z$_]+/gi, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = m[0];
    const rest = s.slice(m.index + name.length);
    if (/^\s*\(/.test(rest)) continue; // a function or an aggregation
    if (KEYWORDS.has(name.toLowerCase())) continue;
    if (m.index > 0 && /[0-9.]/.test(s[m.index - 1]!)) continue; // the exponent of a number: 1e3
    names.add(name);
  }
  return [...names].sort();
}

/**
 * metricNamesInExposition returns every series name a Prometheus text exposition can carry, from
 * its `# TYPE` lines: the name itself, and for histograms and summaries their _bucket, _sum and
 * _count series. A metric with labels but no observation yet still has its TYPE line.
 */
export function metricNamesInExposition(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string];
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

/** labelValuesMetric returns the metric of a Grafana `label_values(metric, label)` query, if any. */
export function labelValuesMetric(query: string): string | undefined {
  const m = /^\s*label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{[^}]*\})?\s*,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$/.exec(query);
  return m?.[1];
}
