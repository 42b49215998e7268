import type { AddressInfo } from 'node:net';

/**
 * What the server shows the monitor (`--metrics`: src/monitor), and how it starts one without
 * knowing it: the monitor is handed in as a starter, so that prom-client, the page and the
 * listener are loaded only when asked for, and the server imports nothing from above.
 */

/** Where the monitor listens. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** A running monitor: the server closes it after its last client has gone (so `/readyz` says 503 throughout the drain). */
export interface Monitor {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/** One connection at one moment, as `/connz` lists it. */
export interface ConnectionSnapshot {
  /** The connection's number, from 1 in accept order (per worker with `--workers`). */
  readonly id: number;
  /** What carries it: the transport's kind ('tcp', 'ws', …). */
  readonly transport: string;
  readonly host: string;
  readonly port: number;
  /** When it was accepted, in ms since the epoch. */
  readonly connectedAt: number;
  readonly chunks: number;
  readonly symbols: number;
  /** What its next statistics answer would say. */
  readonly symbolsSinceAnswer: number;
  /** Bytes written and not yet handed to the network. */
  readonly queuedBytes: number;
  /** Whether its buffer is full, so that its chunks wait and its requests are not read. */
  readonly blocked: boolean;
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

/**
 * A connection as the monitor sees it: its kind can be read for nothing, once a second for
 * every connection; describe() builds a snapshot, only for the ones a listing shows.
 */
export interface MonitoredConnection {
  readonly transport: { readonly kind: string };
  describe(): ConnectionSnapshot;
}

/**
 * What the primary of `--workers N` shows its monitor. The workers' figures come over the
 * cluster's message channel: the request and the answer are the monitor's business (JSON the
 * server passes on unread), answered in each worker by its MonitorAgent.
 */
export interface MonitoredCluster {
  /** Whether the server serves clients: false from the moment a shutdown begins, or once workers keep dying. */
  accepting(): boolean;
  /** Workers listening now. */
  workers(): number;
  /** Workers that died and were replaced. */
  restarts(): number;
  /** Asks every listening worker; a worker that dies or does not answer within a few seconds is left out. */
  ask(request: unknown): Promise<WorkerAnswer[]>;
}

export interface WorkerAnswer {
  /** 1..N: a replacement takes the slot of the worker it replaces. */
  readonly worker: number;
  readonly pid: number;
  readonly answer: unknown;
}

/** A worker's side of the monitor: answers the primary's requests about this worker. */
export interface MonitorAgent {
  answer(request: unknown): Promise<unknown>;
}
