import { get } from 'node:http';

/** Prometheus text format: `name{labels} value` lines, keyed by everything before the value. */
export type Metrics = ReadonlyMap<string, number>;

export function parseMetrics(text: string): Metrics {
  const metrics = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    metrics.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return metrics;
}

/** The sum of a metric over all its label sets. */
export function metricTotal(metrics: Metrics, name: string): number {
  let total = 0;
  for (const [key, value] of metrics) if (key === name || key.startsWith(`${name}{`)) total += value;
  return total;
}

/**
 * Scrapes `url` once. A fresh connection each time (no keep-alive), so that the scrape leaves
 * no socket behind in the very handle counts it reads.
 */
export function fetchMetrics(url: string): Promise<Metrics> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('error', reject);
      response.on('end', () => {
        if (response.statusCode === 200) resolve(parseMetrics(body));
        else reject(new Error(`GET ${url}: status ${String(response.statusCode)}\n${body}`));
      });
    }).on('error', reject);
  });
}
