/**
 * Python's printed forms, so that the lines users and their scripts know from the original
 * stay letter for letter the same.
 */

/** `repr()` of a Python `bytes` object: `b'td3kk'`. */
export function bytesRepr(bytes: Uint8Array): string {
  const quote = bytes.includes(0x27) && !bytes.includes(0x22) ? '"' : "'";
  let out = `b${quote}`;
  for (const byte of bytes) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte === quote.charCodeAt(0)) out += `\\${quote}`;
    else if (byte === 0x09) out += '\\t';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out + quote;
}

/** `repr()` of a Python `str` as far as host names and addresses need it. */
export function strRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (char === '\\') out += '\\\\';
    else if (char === quote) out += `\\${quote}`;
    else if (char === '\t') out += '\\t';
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return out + quote;
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
