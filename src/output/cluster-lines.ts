import type { ClusterEvent } from '../server/cluster.js';
import { jsonLine } from './json-line.js';
import type { Mode } from './mode.js';

/**
 * What each event of `--workers N`'s primary looks like in each mode; undefined when the mode
 * does not show it. A worker that dies is news in every mode; the workers' start only in debug
 * and json, so user and quiet modes start with the original's one `listening on` line.
 */
export function clusterLine(mode: Mode, event: ClusterEvent): string | undefined {
  if (mode === 'json') return clusterJson(event);
  const text = clusterText(event, mode === 'debug');
  if (text === undefined || mode !== 'debug') return text;
  return `${new Date().toISOString().slice(11, 23)} ${text}`;
}

function clusterText(event: ClusterEvent, debug: boolean): string | undefined {
  switch (event.type) {
    case 'worker-listening':
      if (event.replacement) return `worker ${event.worker} restarted (pid ${event.pid})`;
      return debug ? `worker ${event.worker} started (pid ${event.pid})` : undefined;
    case 'worker-died':
      return `worker ${event.worker} (pid ${event.pid}) died (${event.cause})${event.replaced ? ', starting a replacement' : ''}`;
    case 'crash-loop':
      return `error: ${event.deaths} worker deaths within ${event.withinMs / 1000} s; stopping the server`;
  }
}

function clusterJson(event: ClusterEvent): string {
  switch (event.type) {
    case 'worker-listening':
      return jsonLine(event.type, { worker: event.worker, pid: event.pid, replacement: event.replacement });
    case 'worker-died':
      return jsonLine(event.type, { worker: event.worker, pid: event.pid, cause: event.cause, replaced: event.replaced });
    case 'crash-loop':
      return jsonLine(event.type, { deaths: event.deaths, within_s: event.withinMs / 1000 });
  }
}
