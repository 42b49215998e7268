/**
 * Python's printed forms, so that the lines users and their scripts know from the original
 * stay letter for letter the same.
 */

/**
 * Every byte or character that came from a peer is printed through one of these functions, in
 * every mode and on every line: raw, an escape sequence in it could retitle the terminal, clear
 * it or draw forged lines, and a newline could forge a line that a script believes.
 */

const BACKSLASH = 0x5c;

/**
 * The inside of Python's `repr()` of `bytes`: printable ASCII as is, `\\`, `\t`, `\n`, `\r`,
 * and every other byte as `\xNN`; `quote` (a byte) is escaped too when given.
 *
 * The cost is proportional to the bytes, whatever their size: the usual case (nothing to
 * escape) is one latin1 decode, the rest is written into one buffer; a string built character
 * by character would cost many times its length on a megabyte chunk.
 */
export function escapeBytes(bytes: Uint8Array, quote?: number): string {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let first = 0;
  while (first < data.length && isPlain(data[first] as number, quote)) first++;
  if (first === data.length) return data.toString('latin1');
  const out = Buffer.allocUnsafe(first + (data.length - first) * 4);
  data.copy(out, 0, 0, first);
  let n = first;
  for (let i = first; i < data.length; i++) {
    const byte = data[i] as number;
    if (isPlain(byte, quote)) {
      out[n++] = byte;
      continue;
    }
    out[n++] = BACKSLASH;
    const named = NAMED_ESCAPES[byte];
    if (named !== undefined || byte === BACKSLASH || byte === quote) {
      out[n++] = named ?? byte;
    } else {
      out[n++] = 0x78; // x
      out[n++] = HEX_DIGITS[byte >> 4] as number;
      out[n++] = HEX_DIGITS[byte & 0xf] as number;
    }
  }
  return out.toString('latin1', 0, n);
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** Tab, newline and carriage return, written `\t`, `\n` and `\r`, as Python writes them. */
const NAMED_ESCAPES: Readonly<Partial<Record<number, number>>> = { 0x09: 0x74, 0x0a: 0x6e, 0x0d: 0x72 };

function isPlain(byte: number, quote: number | undefined): boolean {
  return byte >= 0x20 && byte < 0x7f && byte !== BACKSLASH && byte !== quote;
}

/** `repr()` of a Python `bytes` object: `b'td3kk'`. */
export function bytesRepr(bytes: Uint8Array): string {
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? 0x22 : 0x27;
  const mark = String.fromCharCode(quote);
  return `b${mark}${escapeBytes(bytes, quote)}${mark}`;
}

/**
 * What Python's `str.isprintable()` refuses: controls (C0, DEL and C1), format characters (the
 * bidirectional overrides among them), surrogates, private-use and unassigned code points, line
 * and paragraph separators, and every space but the plain one. The backslash is matched too, so
 * that an escape can never be forged.
 */
const NOT_PRINTABLE = /[\\\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?! )\p{Zs}/gu;
const NAMED_CHARS: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * The inside of Python's `repr()` of a `str`: what is not printable as `\xNN`, `\uNNNN` or
 * `\UNNNNNNNN`, the backslash doubled. For text that came from a peer (a header value, a reason)
 * and for our own messages that may quote it.
 */
export function escapeText(text: string): string {
  return text.replace(NOT_PRINTABLE, (char) => {
    const named = NAMED_CHARS[char];
    if (named !== undefined) return named;
    const code = char.codePointAt(0) as number;
    if (code < 0x100) return `\\x${code.toString(16).padStart(2, '0')}`;
    if (code < 0x10000) return `\\u${code.toString(16).padStart(4, '0')}`;
    return `\\U${code.toString(16).padStart(8, '0')}`;
  });
}

/** `repr()` of a Python `str`: host names, addresses, header values. */
export function strRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  return `${quote}${escapeText(text).replaceAll(quote, `\\${quote}`)}${quote}`;
}

/**
 * A socket address as Python prints it: `('127.0.0.1', 60174)` for IPv4 and for a host name as
 * given, `('::1', 60174, 0, 0)` for an IPv6 peer (flow info and scope id are always 0 here).
 */
export function addressRepr(host: string, port: number, family?: string): string {
  return family === 'IPv6' ? `(${strRepr(host)}, ${port}, 0, 0)` : `(${strRepr(host)}, ${port})`;
}

const labels = new WeakMap<object, string>();

/**
 * The address of a peer or a target in the original's printed form, computed once for each:
 * it stands on every line about that connection.
 */
export function addressLabel(where: { readonly host: string; readonly port: number; readonly family?: string }): string {
  let label = labels.get(where);
  if (label === undefined) {
    label = addressRepr(where.host, where.port, where.family);
    labels.set(where, label);
  }
  return label;
}

/** The original's `sleepy for a N second(s)`; the number as the header states it. */
export function sleepyLine(seconds: number): string {
  return `sleepy for a ${seconds} second${seconds === 1 ? '' : 's'}`;
}

/** Errno numbers and texts as Python's OSError prints them (`[Errno 104] Connection reset by peer`). */
const OS_ERRORS: Readonly<Record<string, readonly [number, string]>> = {
  ECONNRESET: [104, 'Connection reset by peer'],
  EPIPE: [32, 'Broken pipe'],
  ECONNREFUSED: [111, 'Connection refused'],
  ETIMEDOUT: [110, 'Connection timed out'],
  EHOSTUNREACH: [113, 'No route to host'],
  ENETUNREACH: [101, 'Network is unreachable'],
  EADDRINUSE: [98, 'Address already in use'],
  EADDRNOTAVAIL: [99, 'Cannot assign requested address'],
  EACCES: [13, 'Permission denied'],
  ENOTFOUND: [-2, 'Name or service not known'],
  EAI_AGAIN: [-3, 'Temporary failure in name resolution'],
};

/** A system error in Python's words where we know them, else Node's message. */
export function osErrorText(error: NodeJS.ErrnoException): string {
  const known = error.code === undefined ? undefined : OS_ERRORS[error.code];
  return known === undefined ? error.message : `[Errno ${known[0]}] ${known[1]}`;
}
