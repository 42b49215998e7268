import { isMode, MODES, type Mode } from '../output/mode.js';
import type { Range } from '../server/config.js';

/** A bad command line: the wrapper prints the message and the usage, and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Parsers for the values the command lines take. Each returns the typed value or throws a
 * UsageError naming the option and what was expected, so every bad argument gets one clear line.
 */

export function parsePort(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new UsageError(`invalid port '${text}': expected a whole number from 0 to 65535`);
  }
  return Number(text);
}

export function parseMode(text: string): Mode {
  if (!isMode(text)) throw new UsageError(`invalid mode '${text}': expected one of ${MODES.join(', ')}`);
  return text;
}

export function parseHost(text: string): string {
  if (text === '' || /\s/.test(text)) throw new UsageError(`invalid host '${text}'`);
  return text;
}

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

export function parseInteger(option: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!WHOLE.test(text) || value < min || value > max) {
    throw new UsageError(`invalid ${option} '${text}': expected a whole number from ${min} to ${max}`);
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

/** Printable ASCII without space or `:`, each symbol once: a symbol is a byte, and a chunk can never look like a statistics answer. */
export function parseAlphabet(text: string): string {
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (code <= 0x20 || code >= 0x7f || char === ':') {
      throw new UsageError(`invalid --alphabet: '${char}' is not allowed (printable ASCII without space or ':')`);
    }
  }
  if (text.length === 0) throw new UsageError('invalid --alphabet: it is empty');
  const repeated = Array.from(text).find((char, i) => text.indexOf(char) !== i);
  if (repeated !== undefined) throw new UsageError(`invalid --alphabet: '${repeated}' appears more than once`);
  return text;
}

/** `PORT`, `HOST:PORT` or `[IPv6]:PORT`; the host defaults to loopback, so nothing is exposed by accident. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]:|([^:[\]]+):)?(\d+)$/.exec(text);
  if (match === null) throw new UsageError(`invalid --metrics '${text}': expected PORT, HOST:PORT or [IPv6]:PORT`);
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port: parsePort(match[3] as string) };
}
