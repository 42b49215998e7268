import { isMode, MODES, type Mode } from '../output/mode.js';
import type { Range } from '../server/config.js';
import { parseAddressRange, type AddressRange } from '../transport/address-range.js';
import type { ClientAuth } from '../transport/tls-credentials.js';

/** A bad command line: the wrapper prints the message and the usage, and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Parsers for the values the command lines take. Each returns the typed value or throws a
 * UsageError naming the option and what was expected, so every bad argument gets one clear line.
 */

/** `min` is 1 for a port to connect to: port 0 means "any free one" only to a listener. */
export function parsePort(text: string, min: 0 | 1 = 0): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new UsageError(`invalid port '${text}': expected a whole number from ${min} to 65535`);
  }
  if (Number(text) < min) throw new UsageError(`invalid port '${text}': a client needs the server's port, from 1 to 65535`);
  return Number(text);
}

export function parseMode(text: string): Mode {
  if (!isMode(text)) throw new UsageError(`invalid mode '${text}': expected one of ${MODES.join(', ')}`);
  return text;
}

export function parseHost(text: string): string {
  if (text === '' || /\s/.test(text)) throw new UsageError(`invalid host '${text}'`);
  // The system would take it for an IPv4 address (8000 is 0.0.31.64), but it is a port put first.
  if (/^\d+$/.test(text)) throw new UsageError(`invalid host '${text}': that looks like a port; the host comes first, e.g. localhost ${text}`);
  return text;
}

/** The longest wait `--interval` allows, in seconds: a day. */
export const MAX_INTERVAL_SECONDS = 86_400;

const DECIMAL = /^\d+(?:\.\d+)?$/;
const WHOLE = /^\d+$/;

/** `MIN-MAX`, or a single value meaning exactly that. */
export function parseRange(option: string, text: string, whole: boolean, bounds: Range): Range {
  const pattern = whole ? WHOLE : DECIMAL;
  const parts = text.split('-');
  const kind = whole ? 'whole numbers' : 'numbers';
  if (parts.length > 2 || !parts.every((part) => pattern.test(part))) {
    throw new UsageError(`invalid ${option} '${text}': expected MIN-MAX with ${kind}, e.g. ${bounds.min}-${Math.min(bounds.max, 5)}`);
  }
  const min = Number(parts[0]);
  const max = Number(parts[1] ?? parts[0]);
  if (min > max) throw new UsageError(`invalid ${option} '${text}': MIN is greater than MAX`);
  if (min < bounds.min || max > bounds.max) {
    throw new UsageError(`invalid ${option} '${text}': values must lie from ${bounds.min} to ${bounds.max}`);
  }
  return { min, max };
}

/** `why` says where the bounds come from, when the user could not guess it. */
export function parseInteger(option: string, text: string, min: number, max: number, why?: string): number {
  const value = Number(text);
  if (!WHOLE.test(text) || value < min || value > max) {
    throw new UsageError(`invalid ${option} '${text}': expected a whole number from ${min} to ${max}${why === undefined ? '' : ` (${why})`}`);
  }
  return value;
}

/** Seconds, fractions allowed, returned in milliseconds. */
export function parseSeconds(option: string, text: string, minMs: number, maxMs: number): number {
  const ms = Math.round(Number(text) * 1000);
  if (!DECIMAL.test(text) || ms < minMs || ms > maxMs) {
    throw new UsageError(`invalid ${option} '${text}': expected seconds from ${minMs / 1000} to ${maxMs / 1000}`);
  }
  return ms;
}

/**
 * The symbols of `--alphabet`, written as the default is: `A-Z a-z 0-9`. Spaces separate groups;
 * `X-Y` between two letters of the same case or two digits is the range from X to Y; a `-` first
 * or last in a group is the symbol itself. A `-` between other symbols (`+-/`) could be meant
 * either way, so it is refused. Every symbol is printable ASCII other than space and `:`, and
 * appears once: a symbol is a byte, and a chunk can never look like a statistics answer.
 */
export function parseAlphabet(text: string): string {
  let symbols = '';
  for (const group of text.split(' ').filter((word) => word !== '')) symbols += expandGroup(group);
  for (const char of symbols) {
    const code = char.codePointAt(0) as number;
    if (code <= 0x20 || code >= 0x7f || char === ':') {
      throw new UsageError(`invalid --alphabet: '${char}' is not allowed (printable ASCII without space or ':')`);
    }
  }
  if (symbols.length === 0) throw new UsageError('invalid --alphabet: it is empty');
  const repeated = Array.from(symbols).find((char, i) => symbols.indexOf(char) !== i);
  if (repeated !== undefined) throw new UsageError(`invalid --alphabet: '${repeated}' appears more than once`);
  return symbols;
}

const RANGE_ENDS = [/^[A-Z]$/, /^[a-z]$/, /^[0-9]$/];

function expandGroup(group: string): string {
  const first = group.startsWith('-') ? '-' : '';
  const last = group.length > 1 && group.endsWith('-') ? '-' : '';
  const inner = group.slice(first.length, group.length - last.length);
  let symbols = first;
  for (let i = 0; i < inner.length; i++) {
    const from = inner[i] as string;
    if (from === '-') throw ambiguous(group);
    if (inner[i + 1] !== '-') {
      symbols += from;
      continue;
    }
    const to = inner[i + 2] ?? '';
    if (!RANGE_ENDS.some((ends) => ends.test(from) && ends.test(to)) || from > to) throw ambiguous(group);
    for (let code = from.charCodeAt(0); code <= to.charCodeAt(0); code++) symbols += String.fromCharCode(code);
    i += 2;
  }
  return symbols + last;
}

function ambiguous(group: string): UsageError {
  return new UsageError(
    `invalid --alphabet: '${group}': a range goes from a letter to a letter of the same case or from a digit to a digit (A-F, a-z, 0-9); a '-' of its own goes first or last in a group`,
  );
}

/** `PORT`, `HOST:PORT` or `[IPv6]:PORT`; the host defaults to loopback, so nothing is exposed by accident. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]:|([^:[\]]+):)?(\d+)$/.exec(text);
  if (match === null) throw new UsageError(`invalid --metrics '${text}': expected PORT, HOST:PORT or [IPv6]:PORT`);
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port: parsePort(match[3] as string) };
}

/** `CIDR[,CIDR...]`: addresses (`::1`) or networks (`10.0.0.0/8`). */
export function parseAddressRanges(option: string, text: string): AddressRange[] {
  return text.split(',').map((part) => {
    const range = parseAddressRange(part.trim());
    if (typeof range === 'string') throw new UsageError(`invalid ${option} '${text}': ${range}; expected CIDR[,CIDR...], e.g. 10.0.0.0/8,::1`);
    return range;
  });
}

const CLIENT_AUTH: readonly ClientAuth[] = ['request', 'require'];

export function parseClientAuth(text: string): ClientAuth {
  const auth = CLIENT_AUTH.find((value) => value === text);
  if (auth === undefined) throw new UsageError(`invalid --tls-client-auth '${text}': expected ${CLIENT_AUTH.join(' or ')}`);
  return auth;
}
