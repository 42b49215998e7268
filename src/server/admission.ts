import { ErrorCode, ProtocolError } from '../protocol/errors.js';
import { addressKey } from '../transport/address-range.js';

/**
 * Who may be served: no more than `--max-clients` at once, and no more than
 * `--max-clients-per-address` from any one address (the client's own, which behind a load
 * balancer is the one its PROXY header carries). A refusal names the limit that was hit.
 */
export class Admission {
  readonly #maxClients: number;
  readonly #maxPerAddress: number | undefined;
  /** Clients served now, by address; kept only when there is a per-address limit. */
  readonly #byAddress = new Map<string, number>();

  constructor(maxClients: number, maxPerAddress: number | undefined) {
    this.#maxClients = maxClients;
    this.#maxPerAddress = maxPerAddress;
  }

  /** Why a new client from `host` is refused while `clients` are served; undefined if it may come in. */
  refusal(clients: number, host: string): ProtocolError | undefined {
    if (clients >= this.#maxClients) return new ProtocolError(ErrorCode.serverFull, `server full (${this.#maxClients} clients)`);
    const max = this.#maxPerAddress;
    if (max !== undefined && (this.#byAddress.get(addressKey(host)) ?? 0) >= max) {
      return new ProtocolError(ErrorCode.serverFull, `too many clients from ${host} (${max})`);
    }
    return undefined;
  }

  /** A client from `host` is served from now on. */
  add(host: string): void {
    if (this.#maxPerAddress === undefined) return;
    const key = addressKey(host);
    this.#byAddress.set(key, (this.#byAddress.get(key) ?? 0) + 1);
  }

  /** A client from `host` has gone. */
  remove(host: string): void {
    if (this.#maxPerAddress === undefined) return;
    const key = addressKey(host);
    const left = (this.#byAddress.get(key) ?? 1) - 1;
    if (left === 0) this.#byAddress.delete(key);
    else this.#byAddress.set(key, left);
  }
}
