/** When and how often a client tries again after losing its server. */
export interface ReconnectPolicy {
  /** The first retry's step; each later one doubles it. */
  readonly initialMs: number;
  /** No step is longer than this. */
  readonly maxMs: number;
  /** Retries in a row before giving up; 0 means no limit. */
  readonly attempts: number;
}

/**
 * The wait before retry number `attempt` (from 1): exponential steps, capped, with "equal
 * jitter" (half the step fixed, half random). The fixed half keeps a crowd of clients from
 * hammering a restarting server; the random half keeps them from coming back all at once.
 */
export function backoffDelay(attempt: number, policy: ReconnectPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt - 1, 52));
  return Math.round(step / 2 + (random() * step) / 2);
}
