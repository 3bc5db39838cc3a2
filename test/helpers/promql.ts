import { parser } from '@prometheus-io/lezer-promql';

/**
 * Grafana's own variables, replaced by a value of the same kind before parsing: they are not
 * PromQL. Any other `$variable` is refused, so a query never hides a name behind one.
 */
const GRAFANA_VARIABLES: Readonly<Record<string, string>> = {
  $__rate_interval: '5m',
  $__interval: '1m',
  $__range: '1h',
};

/**
 * The metric names a PromQL expression selects, read from its syntax tree (Prometheus's own
 * grammar), so label names, functions and keywords are never mistaken for metrics. Throws on an
 * expression that does not parse.
 */
export function metricNames(expression: string): string[] {
  const text = expression.replace(/\$\w+/g, (name) => {
    const value = GRAFANA_VARIABLES[name];
    if (value === undefined) throw new Error(`unknown variable ${name} in: ${expression}`);
    return value;
  });
  const names = new Set<string>();
  const errors: number[] = [];
  parser.parse(text).iterate({
    enter(node) {
      if (node.type.isError) errors.push(node.from);
      // A vector selector's metric name is its Identifier child (absent for `{__name__=…}`).
      if (node.name === 'VectorSelector') {
        const name = node.node.getChild('Identifier');
        if (name) names.add(text.slice(name.from, name.to));
      }
    },
  });
  if (errors.length > 0) throw new Error(`not PromQL (at ${errors[0]}): ${text}`);
  return [...names];
}

/**
 * The series names a Prometheus text exposition offers, from its `# TYPE` lines (present even for
 * a labelled metric nothing has counted yet): histograms and summaries with their `_bucket`,
 * `_sum`, `_count` series, counters with `_total` whichever way the exposition names them.
 */
export function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const base = name!;
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(base + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(base + suffix);
    else if (type === 'counter') names.add(base.endsWith('_total') ? base : `${base}_total`);
    else names.add(base);
  }
  return names;
}
