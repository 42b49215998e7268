/**
 * The PROXY protocol header, versions 1 (a text line) and 2 (binary), that a load balancer such
 * as HAProxy sends at the start of a connection to say whom it relays. The rules quoted below
 * are from the specification, HAProxy's doc/proxy-protocol.txt.
 */
import { ProxyHeaderError } from './errors.js';

/** "If the CRLF sequence is not found in the first 107 characters, the receiver should declare the line invalid." */
export const PROXY_V1_MAX_LENGTH = 107;
/** Signature, version and command, family and transport, and the 16-bit length of what follows. */
export const PROXY_V2_FIXED_LENGTH = 16;
/** The most a v2 header can announce. */
export const PROXY_V2_MAX_LENGTH = PROXY_V2_FIXED_LENGTH + 0xffff;
/**
 * The default limit on a v2 header. Addresses take at most 216 bytes (AF_UNIX); what HAProxy can
 * add as TLVs (ALPN, SNI, a unique ID of at most 128 bytes, TLS version, cipher and algorithm
 * names, CRC32C, namespace) comes to a few hundred more. 4 KiB leaves room for custom TLVs and
 * bounds what a connection can make the server hold before it is known to speak the protocol.
 */
export const PROXY_V2_DEFAULT_MAX_LENGTH = 4096;

const V1_SIGNATURE = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const CR = 0x0d;
const LF = 0x0a;

const Command = { local: 0x0, proxy: 0x1 } as const;
const Family = { unspec: 0x0, inet: 0x1, inet6: 0x2, unix: 0x3 } as const;
const Transport = { unspec: 0x0, stream: 0x1, dgram: 0x2 } as const;
/** The address block of each family: two addresses, then for IP two 16-bit ports. */
const ADDRESS_BLOCK_LENGTH: Readonly<Record<number, number>> = { [Family.inet]: 12, [Family.inet6]: 36, [Family.unix]: 216 };
/** A TLV's type byte and 16-bit length. */
const TLV_HEAD_LENGTH = 3;

export interface ProxyAddress {
  /** As Node names a socket's family, so a relayed address and a direct one read alike. */
  readonly family: 'IPv4' | 'IPv6';
  /** In the form Node gives a socket's `remoteAddress` (lowercase, zeros compressed). */
  readonly host: string;
  readonly port: number;
}

export interface ProxyHeaderFields {
  /**
   * `proxy`: a connection relayed for a client. `local`: the proxy's own connection, such as a
   * health check (v2 only); the socket's own addresses are the real ones.
   */
  readonly command: 'proxy' | 'local';
  /**
   * The client as the proxy saw it, and the address it connected to. Absent when the header
   * carries none that the server can use (v1 `UNKNOWN`, v2 `LOCAL`, an unspecified family or
   * transport, AF_UNIX): the caller keeps the socket's own.
   */
  readonly source?: ProxyAddress;
  readonly destination?: ProxyAddress;
}

export interface ProxyHeader extends ProxyHeaderFields {
  readonly version: 1 | 2;
  /** The header's length in bytes. */
  readonly length: number;
  /** The bytes that came after the header in the same chunks: the start of the next layer's stream. */
  readonly rest: Buffer;
}

export interface ProxyHeaderOptions {
  /** Largest v2 header accepted, its 16 fixed bytes included (v1 lines have their fixed 107). */
  readonly maxV2Length?: number;
}

const State = {
  awaitingSignature: 0,
  awaitingV1Line: 1,
  awaitingV2Fixed: 2,
  awaitingV2Block: 3,
  done: 4,
  failed: 5,
} as const;
type State = (typeof State)[keyof typeof State];

/**
 * Reads the PROXY header at the start of a stream, whatever the split of the stream into chunks.
 *
 * Every byte is checked as soon as it arrives, so a stream that is not a valid header is refused
 * at the first byte that proves it (a first byte other than `P` or CR at once), and the v2
 * length is checked against the limit before the bytes it announces are awaited. Between pushes
 * the parser holds less than one header. Bytes are copied only when the header spans chunks.
 */
export class ProxyHeaderParser {
  readonly #maxV2Length: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #state: State = State.awaitingSignature;
  /** The whole v2 header's length, once its fixed part is in. */
  #v2Length = 0;
  #error: ProxyHeaderError | undefined;

  constructor(options: ProxyHeaderOptions = {}) {
    const max = options.maxV2Length ?? PROXY_V2_DEFAULT_MAX_LENGTH;
    if (!Number.isInteger(max) || max < PROXY_V2_FIXED_LENGTH || max > PROXY_V2_MAX_LENGTH) {
      throw new RangeError(`maxV2Length must be an integer from ${PROXY_V2_FIXED_LENGTH} to ${PROXY_V2_MAX_LENGTH}, got ${max}`);
    }
    this.#maxV2Length = max;
  }

  /** Bytes received and held: the part of the header received so far. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Feeds bytes in; returns the header once they complete it, undefined while it needs more.
   * Throws a ProxyHeaderError at the first byte that makes the header invalid, and again on
   * every later push. Once the header is returned the parser's work is done: later bytes
   * belong to the next layer, and pushing them is a mistake.
   */
  push(chunk: Buffer): ProxyHeader | undefined {
    if (this.#error !== undefined) throw this.#error;
    if (this.#state === State.done) throw new Error('the PROXY header is complete; the bytes after it belong to the next layer');
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    try {
      return this.#advance();
    } catch (error) {
      if (error instanceof ProxyHeaderError) this.#fail(error);
      throw error;
    }
  }

  /** What to report when the stream ends, or a deadline passes, before the header is complete. */
  incomplete(): ProxyHeaderError {
    switch (this.#state) {
      case State.awaitingSignature:
        return new ProxyHeaderError('no PROXY protocol header received');
      case State.awaitingV1Line:
        return new ProxyHeaderError(`PROXY v1 line truncated: ${this.#buffered} bytes and no CRLF`);
      case State.awaitingV2Fixed:
        return new ProxyHeaderError(`PROXY v2 header truncated: ${this.#buffered} of at least ${PROXY_V2_FIXED_LENGTH} bytes`);
      case State.awaitingV2Block:
        return new ProxyHeaderError(`PROXY v2 header truncated: ${this.#buffered} of ${this.#v2Length} bytes`);
      case State.failed:
        return this.#error as ProxyHeaderError;
      case State.done:
        throw new Error('the PROXY header is complete');
    }
  }

  #advance(): ProxyHeader | undefined {
    for (;;) {
      switch (this.#state) {
        case State.awaitingSignature: {
          const first = this.#chunks[0]?.[0];
          if (first === undefined) return undefined;
          // "P" can only start v1, CR only v2: one byte tells them apart from each other and from anything else.
          if (first === V1_SIGNATURE[0]) this.#state = State.awaitingV1Line;
          else if (first === V2_SIGNATURE[0]) this.#state = State.awaitingV2Fixed;
          else throw new ProxyHeaderError(`not a PROXY protocol header: it starts with 0x${hex(first)}`);
          break;
        }
        case State.awaitingV1Line:
          return this.#v1Line();
        case State.awaitingV2Fixed:
          if (!this.#v2Fixed()) return undefined;
          break;
        case State.awaitingV2Block:
          return this.#v2Block();
        case State.done:
        case State.failed:
          return undefined;
      }
    }
  }

  /**
   * Judges the line as if its bytes had come one at a time, and reports the first that breaks a
   * rule: the same error, message included, however the stream was split.
   */
  #v1Line(): ProxyHeader | undefined {
    const line = this.#peek(Math.min(this.#buffered, PROXY_V1_MAX_LENGTH));
    checkSignature(line, V1_SIGNATURE);
    if (line.length <= V1_SIGNATURE.length) return undefined;
    // "The receiver must not tolerate a single CR or LF character to end the line."
    let crlf = -1;
    let problem: string | undefined;
    let textEnd = line.length;
    for (let i = 0; i < line.length; i++) {
      if (line[i] !== CR && line[i] !== LF) continue;
      textEnd = i;
      if (line[i] === LF) problem = 'PROXY v1 line has an LF without a CR before it';
      // A CR that is the last byte so far may yet be followed by its LF.
      else if (i + 1 < line.length) {
        if (line[i + 1] === LF) crlf = i;
        else problem = 'PROXY v1 line has a CR not followed by LF';
      }
      break;
    }
    // The fields before the offending byte (or the CRLF) may hold an earlier fault.
    checkV1Prefix(line, textEnd);
    if (problem !== undefined) throw new ProxyHeaderError(problem);
    if (crlf !== -1) return this.#finish(1, crlf + 2, parseV1(line.toString('latin1', V1_SIGNATURE.length, crlf), true) as ProxyHeaderFields);
    if (line.length === PROXY_V1_MAX_LENGTH) throw new ProxyHeaderError(`PROXY v1 line longer than ${PROXY_V1_MAX_LENGTH} bytes`);
    return undefined;
  }

  /** Checks the fixed 16 bytes as far as they have come; true once they are all in. */
  #v2Fixed(): boolean {
    const fixed = this.#peek(Math.min(this.#buffered, PROXY_V2_FIXED_LENGTH));
    checkSignature(fixed, V2_SIGNATURE);
    const versionCommand = fixed[12];
    if (versionCommand === undefined) return false;
    if (versionCommand >> 4 !== 2) throw new ProxyHeaderError(`PROXY v2 version ${versionCommand >> 4} is not 2`);
    const command = versionCommand & 0xf;
    if (command !== Command.local && command !== Command.proxy) {
      throw new ProxyHeaderError(`PROXY v2 command 0x${command.toString(16)} is neither LOCAL (0x0) nor PROXY (0x1)`);
    }
    const familyTransport = fixed[13];
    if (familyTransport === undefined) return false;
    // LOCAL: "discard the protocol block including the family which is ignored".
    if (command === Command.proxy) checkFamily(familyTransport);
    if (fixed.length < PROXY_V2_FIXED_LENGTH) return false;
    const blockLength = fixed.readUInt16BE(14);
    const length = PROXY_V2_FIXED_LENGTH + blockLength;
    if (length > this.#maxV2Length) {
      throw new ProxyHeaderError(`PROXY v2 header of ${length} bytes exceeds the limit of ${this.#maxV2Length} bytes`);
    }
    const addresses = command === Command.proxy ? addressBlockLength(familyTransport) : 0;
    if (blockLength < addresses) {
      throw new ProxyHeaderError(`PROXY v2 address block of ${blockLength} bytes is shorter than the ${addresses} its family needs`);
    }
    this.#v2Length = length;
    this.#state = State.awaitingV2Block;
    return true;
  }

  #v2Block(): ProxyHeader | undefined {
    if (this.#buffered < this.#v2Length) return undefined;
    return this.#finish(2, this.#v2Length, parseV2(this.#peek(this.#v2Length)));
  }

  #finish(version: 1 | 2, length: number, fields: ProxyHeaderFields): ProxyHeader {
    const rest = this.#restAfter(length);
    this.#state = State.done;
    this.#chunks = [];
    this.#buffered = 0;
    return { version, ...fields, length, rest };
  }

  #fail(error: ProxyHeaderError): void {
    this.#error = error;
    this.#state = State.failed;
    this.#chunks = [];
    this.#buffered = 0;
  }

  /** The first `n` buffered bytes (the caller checked they are there), copied only if they span chunks. */
  #peek(n: number): Buffer {
    const first = this.#chunks[0];
    if (first === undefined) return Buffer.alloc(0);
    if (first.length >= n) return first.subarray(0, n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    for (const chunk of this.#chunks) {
      if (filled === n) break;
      filled += chunk.copy(out, filled, 0, Math.min(chunk.length, n - filled));
    }
    return out;
  }

  /** The buffered bytes after the first `n`, copied only if they span chunks. */
  #restAfter(n: number): Buffer {
    let skip = n;
    const tail: Buffer[] = [];
    for (const chunk of this.#chunks) {
      if (skip >= chunk.length) {
        skip -= chunk.length;
      } else {
        tail.push(chunk.subarray(skip));
        skip = 0;
      }
    }
    const [only] = tail;
    return tail.length === 1 && only !== undefined ? only : Buffer.concat(tail);
  }
}

/** The bytes so far must match the signature as far as they go. */
function checkSignature(bytes: Buffer, signature: Buffer): void {
  const n = Math.min(bytes.length, signature.length);
  if (bytes.compare(signature, 0, n, 0, n) !== 0) {
    const name = signature === V1_SIGNATURE ? '"PROXY "' : 'the v2 signature';
    throw new ProxyHeaderError(`not a PROXY protocol header: the first bytes are not ${name}`);
  }
}

// ---- version 1 ---------------------------------------------------------------------------------

/**
 * Refuses a line whose fields up to `end` no further byte could make valid, rather than waiting
 * for the line to end. A refused prefix stays refused as it grows, so the shortest one is found
 * by trying each length in turn, and its error is the one thrown.
 */
function checkV1Prefix(line: Buffer, end: number): void {
  const text = (to: number): string => line.toString('latin1', V1_SIGNATURE.length, to);
  try {
    parseV1(text(end), false);
  } catch (error) {
    for (let to = V1_SIGNATURE.length + 1; to < end; to++) parseV1(text(to), false);
    throw error;
  }
}

const V1_PROTOCOLS = ['TCP4', 'TCP6', 'UNKNOWN'] as const;
const V1_FIELD_NAMES = ['source address', 'destination address', 'source port', 'destination port'] as const;

/**
 * Checks the line after "PROXY " (without its CRLF): "PROTO SRC DST SPORT DPORT", each field
 * separated by exactly one space. With `complete` false the text is a prefix: it is refused if
 * no continuation could be valid, and undefined is returned.
 */
function parseV1(text: string, complete: boolean): ProxyHeaderFields | undefined {
  const fields = text.split(' ');
  const protocol = fields[0] as string;
  if (fields.length === 1 && !complete) {
    if (!V1_PROTOCOLS.some((known) => known.startsWith(protocol))) throw unknownV1Protocol(protocol);
    return undefined;
  }
  // "For UNKNOWN, the rest of the line before the CRLF may be omitted by the sender, and the
  // receiver must ignore anything presented before the CRLF is found."
  if (protocol === 'UNKNOWN') return complete ? { command: 'proxy' } : undefined;
  if (protocol !== 'TCP4' && protocol !== 'TCP6') throw unknownV1Protocol(protocol);
  const values = fields.slice(1);
  if (values.length > 4) throw new ProxyHeaderError(`PROXY v1 ${protocol} line has more than 4 fields after the protocol`);
  if (complete && values.length < 4) {
    throw new ProxyHeaderError(`PROXY v1 ${protocol} line ends after ${values.length} of its 4 fields (addresses and ports)`);
  }
  const family = protocol === 'TCP4' ? 'IPv4' : 'IPv6';
  const parsed: Array<string | number> = [];
  for (const [i, value] of values.entries()) {
    const isPort = i >= 2;
    if (!complete && i === values.length - 1) {
      if (!(isPort ? isPortPrefix(value) : family === 'IPv4' ? isIPv4Prefix(value) : isIPv6Prefix(value))) {
        throw invalidV1Field(V1_FIELD_NAMES[i] as string, value, family);
      }
      return undefined;
    }
    const result = isPort ? parsePort(value) : family === 'IPv4' ? ipv4Text(value) : ipv6Text(value);
    if (result === undefined) throw invalidV1Field(V1_FIELD_NAMES[i] as string, value, family);
    parsed.push(result);
  }
  if (!complete) return undefined;
  const [sourceHost, destinationHost, sourcePort, destinationPort] = parsed as [string, string, number, number];
  return {
    command: 'proxy',
    source: { family, host: sourceHost, port: sourcePort },
    destination: { family, host: destinationHost, port: destinationPort },
  };
}

function unknownV1Protocol(protocol: string): ProxyHeaderError {
  return new ProxyHeaderError(`PROXY v1 protocol ${shown(protocol)} is not TCP4, TCP6 or UNKNOWN`);
}

function invalidV1Field(name: string, value: string, family: 'IPv4' | 'IPv6'): ProxyHeaderError {
  const expected = name.endsWith('port') ? 'a port (0 to 65535, no leading zeros)' : `an ${family} address`;
  return new ProxyHeaderError(`PROXY v1 ${name} ${shown(value)} is not ${expected}`);
}

/** "Heading zeroes are not permitted in front of numbers in order to avoid any possible confusion with octal numbers." */
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

function parsePort(text: string): number | undefined {
  if (text.length > 5 || !DECIMAL.test(text)) return undefined;
  const port = Number(text);
  return port <= 0xffff ? port : undefined;
}

/** Every prefix of a valid port is a valid port, or empty. */
function isPortPrefix(text: string): boolean {
  return text === '' || parsePort(text) !== undefined;
}

function ipv4Text(text: string): string | undefined {
  return parseIPv4(text) === undefined ? undefined : text;
}

function ipv6Text(text: string): string | undefined {
  const bytes = parseIPv6(text);
  return bytes === undefined ? undefined : formatIPv6(bytes, 0);
}

/** Every prefix of a valid octet is a valid octet, or empty. */
function isIPv4Prefix(text: string): boolean {
  const octets = text.split('.');
  if (octets.length > 4) return false;
  return octets.every((octet, i) => (i === octets.length - 1 && octet === '') || parseOctet(octet) !== undefined);
}

/**
 * A cheap test that a field can still become an IPv6 address: the right characters, not too
 * long, one `::` at most, no group of five hex digits. It may let through a prefix that cannot
 * succeed (the complete line is checked in full), never refuses one that can.
 */
function isIPv6Prefix(text: string): boolean {
  if (text.length > MAX_IPV6_TEXT || !/^[0-9A-Fa-f:.]*$/.test(text) || /[0-9A-Fa-f]{5}/.test(text)) return false;
  const gap = text.indexOf('::');
  return gap === -1 || !text.includes('::', gap + 1);
}

// ---- version 2 ---------------------------------------------------------------------------------

/** Refuses what the spec says receivers must reject: a family above 0x3, a transport above 0x2. */
function checkFamily(familyTransport: number): void {
  const family = familyTransport >> 4;
  const transport = familyTransport & 0xf;
  if (family > Family.unix) throw new ProxyHeaderError(`PROXY v2 unknown address family 0x${family.toString(16)}`);
  if (transport > Transport.dgram) throw new ProxyHeaderError(`PROXY v2 unknown transport protocol 0x${transport.toString(16)}`);
}

/** Bytes of addresses a PROXY command carries; 0 when family or transport is unspecified ("the receiver should ignore address information"). */
function addressBlockLength(familyTransport: number): number {
  if ((familyTransport & 0xf) === Transport.unspec) return 0;
  return ADDRESS_BLOCK_LENGTH[familyTransport >> 4] ?? 0;
}

/** Reads a whole v2 header, its fixed part already checked. */
function parseV2(header: Buffer): ProxyHeaderFields {
  // LOCAL: "the receiver must accept this connection as valid and must use the real connection endpoints".
  if (((header[12] as number) & 0xf) === Command.local) return { command: 'local' };
  const familyTransport = header[13] as number;
  const addresses = addressBlockLength(familyTransport);
  // The TLVs after a known address block must tile the rest exactly, as HAProxy checks them;
  // behind an unspecified one they cannot be found, and are skipped with it.
  if (addresses > 0) checkTlvs(header, PROXY_V2_FIXED_LENGTH + addresses);
  // UNSPEC, or AF_UNIX: a path means nothing to a TCP server's lines and limits, so it falls
  // back to UNSPEC, as the spec allows for a combination a receiver does not support.
  const family = familyTransport >> 4;
  if (addresses === 0 || family === Family.unix) return { command: 'proxy' };
  const ipv4 = family === Family.inet;
  const size = ipv4 ? 4 : 16;
  const address = (index: 0 | 1): ProxyAddress => {
    const at = PROXY_V2_FIXED_LENGTH + index * size;
    return {
      family: ipv4 ? 'IPv4' : 'IPv6',
      host: ipv4 ? formatIPv4(header, at) : formatIPv6(header, at),
      port: header.readUInt16BE(PROXY_V2_FIXED_LENGTH + 2 * size + 2 * index),
    };
  };
  return { command: 'proxy', source: address(0), destination: address(1) };
}

function checkTlvs(header: Buffer, start: number): void {
  let at = start;
  while (at < header.length) {
    if (at + TLV_HEAD_LENGTH > header.length) throw new ProxyHeaderError(`PROXY v2 TLV at byte ${at} is cut short by the header's end`);
    const end = at + TLV_HEAD_LENGTH + header.readUInt16BE(at + 1);
    if (end > header.length) throw new ProxyHeaderError(`PROXY v2 TLV at byte ${at} runs past the header's end`);
    at = end;
  }
}

// ---- addresses ---------------------------------------------------------------------------------

/** Eight groups of four hex digits and seven colons, or six groups, six colons and a dotted quad. */
const MAX_IPV6_TEXT = 45;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;

function parseOctet(text: string): number | undefined {
  if (text.length > 3 || !DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return value <= 255 ? value : undefined;
}

/** "exactly 4 integers in the range [0..255] inclusive written in decimal representation separated by exactly one dot" */
export function parseIPv4(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const part of parts) {
    const octet = parseOctet(part);
    if (octet === undefined) return undefined;
    octets.push(octet);
  }
  return octets;
}

/**
 * An IPv6 address's 16 bytes, from any text form `inet_pton` takes: groups of one to four hex
 * digits, one `::` for a run of zero groups, and a dotted quad for the last 32 bits. The spec
 * describes groups of four digits, but senders write what `inet_ntop` gives (`2001:db8::1`).
 */
export function parseIPv6(text: string): Uint8Array | undefined {
  if (text.length > MAX_IPV6_TEXT) return undefined;
  const gap = text.indexOf('::');
  if (gap !== -1 && text.includes('::', gap + 1)) return undefined;
  const head = groupWords(gap === -1 ? text : text.slice(0, gap), gap === -1);
  const tail = gap === -1 ? [] : groupWords(text.slice(gap + 2), true);
  if (head === undefined || tail === undefined) return undefined;
  const count = head.length + tail.length;
  // Without `::` the groups fill all eight words; with it, it stands for one zero group at least.
  if (gap === -1 ? count !== 8 : count > 7) return undefined;
  const bytes = new Uint8Array(16);
  const put = (word: number, index: number): void => {
    bytes[2 * index] = word >> 8;
    bytes[2 * index + 1] = word & 0xff;
  };
  head.forEach((word, i) => put(word, i));
  tail.forEach((word, i) => put(word, 8 - tail.length + i));
  return bytes;
}

/** The 16-bit words of colon-separated groups; a dotted quad may end them when they end the address. */
function groupWords(text: string, endsAddress: boolean): number[] | undefined {
  if (text === '') return [];
  const groups = text.split(':');
  const words: number[] = [];
  for (const [i, group] of groups.entries()) {
    if (endsAddress && i === groups.length - 1 && group.includes('.')) {
      const octets = parseIPv4(group);
      if (octets === undefined) return undefined;
      const [a, b, c, d] = octets as [number, number, number, number];
      words.push((a << 8) | b, (c << 8) | d);
    } else if (HEX_GROUP.test(group)) {
      words.push(Number.parseInt(group, 16));
    } else {
      return undefined;
    }
  }
  return words;
}

function formatIPv4(bytes: Uint8Array, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

/**
 * The 16 bytes at `at` as text, exactly as libuv's `inet_ntop` (hence Node's `remoteAddress`)
 * writes them: lowercase hex without leading zeros, the first longest run of two or more zero
 * groups as `::`, and the last 32 bits of an IPv4-mapped (`::ffff:a.b.c.d`) or IPv4-compatible
 * (`::a.b.c.d`) address as a dotted quad.
 */
export function formatIPv6(bytes: Uint8Array, at: number): string {
  const words = Array.from({ length: 8 }, (_, i) => ((bytes[at + 2 * i] as number) << 8) | (bytes[at + 2 * i + 1] as number));
  let best = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && words[end] === 0) end++;
    if (end - i > bestLength) [best, bestLength] = [i, end - i];
    i = end;
  }
  if (bestLength < 2) best = -1;
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (best !== -1 && i >= best && i < best + bestLength) {
      if (i === best) text += ':';
      continue;
    }
    if (i !== 0) text += ':';
    if (i === 6 && best === 0 && (bestLength === 6 || (bestLength === 5 && words[5] === 0xffff))) {
      return text + formatIPv4(bytes, at + 12);
    }
    text += (words[i] as number).toString(16);
  }
  if (best !== -1 && best + bestLength === 8) text += ':';
  return text;
}

// ---- encoding ----------------------------------------------------------------------------------

export interface ProxyTlv {
  readonly type: number;
  readonly value: Uint8Array;
}

/**
 * Builds a PROXY header the way a load balancer sends one. The programs never send one; the
 * tests and the benchmark do, to stand in for HAProxy. Version 1 writes `UNKNOWN` for a header
 * without addresses and cannot say `local`; version 2 writes UNSPEC for one without addresses,
 * and the TLVs after the addresses.
 */
export function encodeProxyHeader(version: 1 | 2, fields: ProxyHeaderFields, tlvs: readonly ProxyTlv[] = []): Buffer {
  const { source, destination } = fields;
  if ((source === undefined) !== (destination === undefined)) throw new TypeError('a PROXY header carries both addresses or neither');
  if (source !== undefined && destination !== undefined && source.family !== destination.family) {
    throw new TypeError('the two addresses of a PROXY header must be of one family');
  }
  if (fields.command === 'local' && source !== undefined) throw new TypeError('a LOCAL PROXY header carries no addresses');
  const addresses = source === undefined || destination === undefined ? undefined : [addressBytes(source), addressBytes(destination)];
  if (version === 1) {
    if (fields.command === 'local') throw new TypeError('PROXY v1 has no LOCAL command');
    if (tlvs.length > 0) throw new TypeError('PROXY v1 has no TLVs');
    if (source === undefined || destination === undefined) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
    const protocol = source.family === 'IPv4' ? 'TCP4' : 'TCP6';
    return Buffer.from(`PROXY ${protocol} ${source.host} ${destination.host} ${source.port} ${destination.port}\r\n`, 'latin1');
  }
  const ports = Buffer.alloc(addresses === undefined ? 0 : 4);
  if (source !== undefined && destination !== undefined) {
    ports.writeUInt16BE(source.port, 0);
    ports.writeUInt16BE(destination.port, 2);
  }
  const extensions = tlvs.map(({ type, value }) => Buffer.concat([Buffer.of(type, value.length >> 8, value.length & 0xff), value]));
  const body = Buffer.concat([...(addresses ?? []), ports, ...extensions]);
  if (body.length > 0xffff) throw new RangeError(`a PROXY v2 header cannot hold ${body.length} bytes after its fixed part`);
  const fixed = Buffer.alloc(PROXY_V2_FIXED_LENGTH);
  V2_SIGNATURE.copy(fixed);
  fixed[12] = 0x20 | (fields.command === 'local' ? Command.local : Command.proxy);
  fixed[13] = source === undefined ? 0x00 : ((source.family === 'IPv4' ? Family.inet : Family.inet6) << 4) | Transport.stream;
  fixed.writeUInt16BE(body.length, 14);
  return Buffer.concat([fixed, body]);
}

function addressBytes(address: ProxyAddress): Uint8Array {
  const parsed = address.family === 'IPv4' ? parseIPv4(address.host) : parseIPv6(address.host);
  if (parsed === undefined) throw new TypeError(`${address.host} is not an ${address.family} address`);
  if (!Number.isInteger(address.port) || address.port < 0 || address.port > 0xffff) throw new RangeError(`${address.port} is not a port`);
  return Uint8Array.from(parsed);
}

// ---- text --------------------------------------------------------------------------------------

function hex(value: number): string {
  return value.toString(16).padStart(2, '0');
}

/** A piece of the peer's line, quoted and clipped, every byte outside printable ASCII escaped: messages reach terminals and logs. */
function shown(text: string): string {
  const clipped = text.length > 24 ? `${text.slice(0, 24)}...` : text;
  return `"${clipped.replace(/[^\x20-\x7e]|["\\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}"`;
}
