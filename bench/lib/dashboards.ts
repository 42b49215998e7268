import { get, type ClientRequest } from 'node:http';

/** What the dashboard page does: one event stream with five minutes of backlog, a poll of the connections every two seconds. */
const BACKLOG = 300;
const CONNZ_EVERY_MS = 2_000;
const CONNZ_LIMIT = 20;

export interface DashboardTally {
  readonly viewers: number;
  /** Events received over every stream, the backlogs included. */
  readonly events: number;
  readonly connzPolls: number;
  readonly errors: number;
}

/**
 * N dashboards open on the monitor, as the page loads them: each reads `/events` (all its
 * events, counted) and polls `/connz?limit=20`, the polls spread over the two seconds as pages
 * opened at different times would be. The cost they add is the server's to show.
 */
export class Dashboards {
  readonly #base: string;
  readonly #streams: ClientRequest[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  #events = 0;
  #polls = 0;
  #errors = 0;

  private constructor(base: string) {
    this.#base = base;
  }

  /** Opens `count` dashboards on the monitor at `base` (`http://host:port`); resolves once each has its first events. */
  static async open(base: string, count: number): Promise<Dashboards> {
    const dashboards = new Dashboards(base);
    await Promise.all(Array.from({ length: count }, (_, i) => dashboards.#openOne(i, count)));
    return dashboards;
  }

  tally(): DashboardTally {
    return { viewers: this.#streams.length, events: this.#events, connzPolls: this.#polls, errors: this.#errors };
  }

  close(): DashboardTally {
    for (const timer of this.#timers) clearTimeout(timer);
    for (const stream of this.#streams) stream.destroy();
    return this.tally();
  }

  #openOne(index: number, count: number): Promise<void> {
    return new Promise((resolve) => {
      const stream = get(`${this.#base}/events?backlog=${BACKLOG}`, { agent: false }, (response) => {
        if (response.statusCode !== 200) this.#errors++;
        response.setEncoding('utf8');
        // Each event ends with a blank line, and so does the stream's opening block (a comment, the retry).
        let blocks = 0;
        let endedWithNewline = false;
        response.on('data', (chunk: string) => {
          for (let at = chunk.indexOf('\n'); at !== -1; at = chunk.indexOf('\n', at + 1)) {
            if (at === 0 ? endedWithNewline : chunk[at - 1] === '\n') {
              if (blocks++ > 0) this.#events++;
            }
          }
          endedWithNewline = chunk.endsWith('\n');
          if (blocks > 1) resolve();
        });
      });
      stream.on('error', () => {
        this.#errors++;
        resolve();
      });
      this.#streams.push(stream);
      const first = setTimeout(() => {
        this.#timers.push(setInterval(() => this.#poll(), CONNZ_EVERY_MS));
        this.#poll();
      }, (CONNZ_EVERY_MS * index) / count);
      this.#timers.push(first);
    });
  }

  #poll(): void {
    get(`${this.#base}/connz?limit=${CONNZ_LIMIT}`, { agent: false }, (response) => {
      if (response.statusCode === 200) this.#polls++;
      else this.#errors++;
      response.resume();
    }).on('error', () => this.#errors++);
  }
}
