/**
 * One process of the load generator: opens its share of checking clients, at a steady rate,
 * spread over its source addresses, asks for statistics at random, and reports its tally to
 * the coordinator once a second. A process holds at most about 19,000 sockets (`ulimit -n`),
 * so the coordinator forks as many of these as the run needs.
 */
import { setPriority } from 'node:os';
import { CheckingClient, Tally, type ChunkRules } from './checking-client.js';

export interface LoadPlan {
  readonly host: string;
  readonly port: number;
  /** Loopback source addresses to spread connections over (each gives about 28,000 ports). */
  readonly sources: readonly string[];
  readonly clients: number;
  /** New connections per second. */
  readonly rampPerSecond: number;
  /** Share of connected clients that ask for statistics each second (0.01 = 1%). */
  readonly statisticsRate: number;
  readonly rules: ChunkRules;
  /** `ws`: WebSocket clients of the web port's `/ws` (then `port` is the web port). */
  readonly transport?: 'tcp' | 'ws';
  /** TLS clients, trusting these CA certificates (PEM). */
  readonly tls?: { readonly ca: string };
}

export type WorkerMessage = { readonly type: 'start'; readonly plan: LoadPlan } | { readonly type: 'reset' } | { readonly type: 'stop' };

export interface WorkerReport {
  readonly type: 'report';
  /** `tick` once a second; `reset` closes a measuring window; `final` after every client closed. */
  readonly reason: 'tick' | 'reset' | 'final';
  readonly opened: number;
  /** Which measuring window the counts belong to: how many resets came before them. */
  readonly window: number;
  /** Counts since the previous report; `connected` is the level now. */
  readonly tally: ReturnType<Tally['toJSON']>;
}

const TICK_MS = 50;

// The generator shares the machine with the server it measures: the server has the CPU first,
// so what is measured is the server's lateness, not the generator's. The checking clients come
// next, before the hostile ones (nice 19): they are the instrument, the others the load, and
// at the same priority a flood of hostile connections delayed the checking clients' own loops,
// which their lateness then counted as the server's.
try {
  setPriority(10);
} catch {
  // Not allowed here: measure anyway.
}
const clients: CheckingClient[] = [];
const tally = new Tally();
let plan: LoadPlan | undefined;
let opened = 0;
let ticker: NodeJS.Timeout | undefined;
let reporter: NodeJS.Timeout | undefined;
let window = 0;
let askDebt = 0;
let openDebt = 0;

process.on('message', (message: WorkerMessage) => {
  switch (message.type) {
    case 'start':
      plan = message.plan;
      ticker = setInterval(tick, TICK_MS);
      reporter = setInterval(() => report('tick'), 1000);
      break;
    case 'reset':
      // A measuring window starts or ends here: report at once so the windows do not blur.
      report('reset');
      window++;
      break;
    case 'stop':
      void stop();
      break;
  }
});

function tick(): void {
  if (plan === undefined) return;
  openDebt += (plan.rampPerSecond * TICK_MS) / 1000;
  while (openDebt >= 1 && opened < plan.clients) {
    openDebt--;
    const source = plan.sources[opened % plan.sources.length];
    clients.push(new CheckingClient({ host: plan.host, port: plan.port, localAddress: source, transport: plan.transport, ...(plan.tls === undefined ? {} : { tls: plan.tls }) }, plan.rules, tally));
    opened++;
  }
  askDebt += (clients.length * plan.statisticsRate * TICK_MS) / 1000;
  while (askDebt >= 1) {
    askDebt--;
    clients[Math.floor(Math.random() * clients.length)]?.requestStatistics();
  }
}

function report(reason: WorkerReport['reason']): void {
  // Each report carries what happened since the last one; the coordinator adds them up.
  const message: WorkerReport = { type: 'report', reason, opened, window, tally: tally.toJSON() };
  tally.resetCounts();
  process.send?.(message);
}

async function stop(): Promise<void> {
  clearInterval(ticker);
  clearInterval(reporter);
  await Promise.all(clients.map((client) => client.close()));
  report('final');
  process.disconnect?.();
}
