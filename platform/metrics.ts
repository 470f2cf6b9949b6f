import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * createMetricsRegistry returns a fresh prom-client registry for one process, with the default
 * process and Node.js metrics. No module uses prom-client's global registry: metrics are passed in
 * as a dependency, so tests and the one-process `vigil up` can hold several.
 */
export function createMetricsRegistry(labels: Record<string, string> = {}, withDefaults = true): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  if (withDefaults) collectDefaultMetrics({ register: registry });
  return registry;
}
