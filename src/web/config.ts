/** The web port (`--web`): where it listens, who may connect, and its timings. */
export interface WebConfig {
  readonly host: string;
  readonly port: number;
  /**
   * Origins besides the page's own whose pages may open a WebSocket here (`--web-origin`), each
   * as `scheme://host[:port]`.
   */
  readonly origins: readonly string[];
  /** An HTTP request whose headers are not complete within this is answered 408 and closed (slowloris). */
  readonly headersTimeoutMs: number;
  /** How often each WebSocket peer is pinged; one that has not answered by the next ping is closed. */
  readonly pingIntervalMs: number;
}

export const DEFAULT_WEB_TIMINGS = {
  headersTimeoutMs: 5_000,
  pingIntervalMs: 30_000,
} as const satisfies Partial<WebConfig>;
