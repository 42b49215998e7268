import { parseIPv4, parseIPv6 } from '../protocol/proxy-header.js';

/**
 * Address ranges in CIDR form (`10.0.0.0/8`, `fd00::/8`, `::1`), for the sources a PROXY
 * header is trusted from, and the one key per client address that the per-address limit counts.
 */

/** A network: its first address and how many leading bits every member shares with it. */
export interface AddressRange {
  readonly family: 'IPv4' | 'IPv6';
  readonly bytes: Uint8Array;
  readonly prefix: number;
  /** As written, for messages. */
  readonly text: string;
}

/** Loopback, both families: where a load balancer on the same machine connects from. */
export const LOOPBACK_RANGES: readonly AddressRange[] = [parseAddressRange('127.0.0.0/8'), parseAddressRange('::1')].map((range) => {
  if (typeof range === 'string') throw new Error(range);
  return range;
});

/**
 * `ADDRESS` (one address) or `ADDRESS/BITS`; a string saying what is wrong otherwise. Bits set
 * past the prefix (`10.0.0.1/8`) are refused rather than silently cleared: the range meant is
 * not clear.
 */
export function parseAddressRange(text: string): AddressRange | string {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const v4 = parseIPv4(address);
  const bytes = v4 === undefined ? parseIPv6(address) : Uint8Array.from(v4);
  if (bytes === undefined) return `'${address}' is not an IPv4 or IPv6 address`;
  const bits = bytes.length * 8;
  const prefixText = slash === -1 ? String(bits) : text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > bits) return `'/${prefixText}' is not a prefix length from 0 to ${bits}`;
  for (let bit = prefix; bit < bits; bit++) {
    if (((bytes[bit >> 3] as number) >> (7 - (bit & 7))) & 1) return `'${text}' has bits set past its /${prefix} prefix`;
  }
  return { family: v4 === undefined ? 'IPv6' : 'IPv4', bytes, prefix, text };
}

/**
 * The address as bytes: 4 for IPv4, 16 for IPv6, and 4 for an IPv4-mapped IPv6 address
 * (`::ffff:127.0.0.1`, how a socket listening on `::` names an IPv4 peer), so that it is the
 * same peer whichever way the system names it.
 */
export function addressBytes(host: string): Uint8Array | undefined {
  const v4 = parseIPv4(host);
  if (v4 !== undefined) return Uint8Array.from(v4);
  const v6 = parseIPv6(host);
  if (v6 === undefined) return undefined;
  return isV4Mapped(v6) ? v6.subarray(12) : v6;
}

/** Whether `host` lies in any of `ranges`. */
export function inRanges(host: string, ranges: readonly AddressRange[]): boolean {
  const bytes = addressBytes(host);
  return bytes !== undefined && ranges.some((range) => inRange(bytes, range));
}

function inRange(bytes: Uint8Array, range: AddressRange): boolean {
  if (bytes.length !== range.bytes.length) return false;
  const whole = range.prefix >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== range.bytes[i]) return false;
  const rest = range.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((bytes[whole] as number) & mask) === ((range.bytes[whole] as number) & mask);
}

/** One key per client address: an IPv4-mapped IPv6 address counts as the IPv4 address it maps. */
export function addressKey(host: string): string {
  return host.startsWith('::ffff:') && parseIPv4(host.slice(7)) !== undefined ? host.slice(7) : host;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}
