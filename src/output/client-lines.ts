import type { ClientEvent, Target } from '../client/events.js';
import { certificateFields, tlsFailedLine, tlsFailedReason, tlsInsecureLine, tlsUntrustedLine, untrustedReason } from './client-tls-lines.js';
import { jsonLine, jsonText } from './json-line.js';
import type { Mode } from './mode.js';
import { addressLabel, bytesRepr, escapeBytes, escapeText, osErrorText, sleepyLine, strRepr } from './python-repr.js';

export const HINT = "Press 's' for statistics or 'q' to quit.";
/** What the original says, after the hint, for a key that is not a character (an arrow, a function key). */
export const EXCESS_PRESSING = 'be careful with excess pressing, young man';
/** How much of an unreadable statistics answer its error line quotes. */
const QUOTED_ANSWER_BYTES = 80;

/**
 * What each client event looks like in each mode; undefined when the mode does not show it.
 *
 * `user` prints the original's lines. `debug` adds headers, whole frames, addresses and the
 * client's own count beside the server's figure. `quiet` keeps the statistics and the errors.
 * `json` prints one object per event.
 *
 * Whatever came from the server (chunks, reasons, header values) is printed escaped, in every
 * mode: Python's `repr` forms in the text modes, JSON with every control escaped in `json`.
 */
export function clientLine(mode: Mode, event: ClientEvent): string | undefined {
  switch (mode) {
    case 'user':
      return userLine(event);
    case 'debug':
      return debugLine(event);
    case 'quiet':
      return quietLine(event);
    case 'json':
      return clientJson(event);
  }
}

function userLine(event: ClientEvent): string | undefined {
  switch (event.type) {
    case 'starting':
      return `starting connection to ${addressLabel(event.target)}`;
    case 'hint':
      return HINT;
    case 'key':
      // The original prints the hint at every key press, `s` and `q` included.
      return event.character ? HINT : `${HINT}\n${EXCESS_PRESSING}`;
    case 'frame':
      // Error and shutdown frames are not chunks: their own lines say what they mean.
      if (event.messageType === 'error' || event.messageType === 'shutdown') return undefined;
      return `${sleepyLine(event.frame.header.sleep_time ?? 0)}\ngot response: ${bytesRepr(event.frame.content)}`;
    case 'request':
      return `sending ${bytesRepr(event.request)} to ${addressLabel(event.target)}`;
    case 'closing':
      return `closing connection to ${addressLabel(event.target)}`;
    case 'connected':
    case 'statistics':
      return undefined;
    default:
      return quietLine(event);
  }
}

function quietLine(event: ClientEvent): string | undefined {
  switch (event.type) {
    case 'statistics':
      return `Statistics: ${event.reported} symbols was delivered`;
    case 'bad-statistics': {
      const { error } = event;
      const quoted = error.content.subarray(0, QUOTED_ANSWER_BYTES);
      const more = error.content.length > quoted.length ? ` (${error.content.length} bytes)` : '';
      return `error: ${escapeText(error.message)}: ${bytesRepr(quoted)}${more} (${error.code})`;
    }
    case 'server-error':
      return `error: server says: ${escapeBytes(event.reason)}`;
    case 'shutdown':
      return shutdownLine(escapeBytes(event.reason));
    case 'peer-closed':
      // The original client's words, period included.
      return 'error: Peer closed.';
    case 'protocol-error':
      return `error: ${escapeText(event.error.message)} (${event.error.code})`;
    case 'connection-error':
      return `error: ${osErrorText(event.error)}`;
    case 'connect-failed':
      return `error: cannot connect to ${addressLabel(event.target)}: ${osErrorText(event.error)}${connectAdvice(event.target, event.error)}`;
    case 'tls-untrusted':
      return tlsUntrustedLine(event);
    case 'tls-failed':
      return tlsFailedLine(event);
    case 'tls-insecure':
      return tlsInsecureLine(event);
    case 'idle-timeout':
      return event.connected
        ? `error: no frame from ${addressLabel(event.target)} for ${event.seconds} s (--idle-timeout)`
        : `error: no connection to ${addressLabel(event.target)} within ${event.seconds} s (--idle-timeout)`;
    case 'reconnecting': {
      const of = event.attempts === 0 ? '' : ` of ${event.attempts}`;
      return `reconnecting to ${addressLabel(event.target)} in ${(event.delayMs / 1000).toFixed(1)} s (attempt ${event.attempt}${of})`;
    }
    case 'not-connected': {
      const what = event.requests === 1 ? '1 statistics request' : `${event.requests} statistics requests`;
      const why = event.everConnected ? `the connection to ${addressLabel(event.target)} ended first` : `no connection to ${addressLabel(event.target)} was made`;
      return `error: ${what} not sent: ${why}`;
    }
    default:
      return undefined;
  }
}

/**
 * Our server's reason already says `server shutting down (SIGTERM)`: printed as it is, so the
 * line says it once. Another server's reason is introduced.
 */
function shutdownLine(reason: string): string {
  return reason.startsWith('server shutting down') ? reason : `server shutting down: ${reason}`;
}

/** What the user can check, after the system's words, for the failures a user can fix. */
function connectAdvice(target: Target, error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOTFOUND':
      return ` (no host named ${strRepr(target.host)} was found)`;
    case 'EAI_AGAIN':
      return ` (the name ${strRepr(target.host)} could not be looked up now)`;
    case 'ECONNREFUSED':
      return ` (nothing listens on port ${target.port} there)`;
    default:
      return '';
  }
}

function debugLine(event: ClientEvent): string | undefined {
  const time = new Date().toISOString().slice(11, 23);
  switch (event.type) {
    case 'connected':
      return `${time} connected to ${addressLabel(event.target)} (local ${event.local}, remote ${event.remote})`;
    case 'frame': {
      const { header, content, size } = event.frame;
      return (
        `${time} received ${escapeText(String(header['content-type']))} response from ${addressLabel(event.target)}: ` +
        `${event.messageType}, ${size} bytes, header ${jsonText(header)}\n` +
        `${time} ${sleepyLine(header.sleep_time ?? 0)}\n` +
        `${time} got response: ${bytesRepr(content)}`
      );
    }
    case 'request':
      return `${time} sending ${bytesRepr(event.frame)} to ${addressLabel(event.target)}`;
    case 'statistics': {
      const verdict = event.reported === event.counted ? 'match' : `MISMATCH by ${event.reported - event.counted}`;
      return `${time} statistics: server reports ${event.reported} symbols, client counted ${event.counted} (${verdict})`;
    }
    case 'connection-error':
      return `${time} error: ${osErrorText(event.error)} (${event.error.code ?? 'no code'})`;
    default: {
      const line = userLine(event);
      return line === undefined ? undefined : line.replace(/^/gm, `${time} `);
    }
  }
}

function clientJson(event: ClientEvent): string | undefined {
  switch (event.type) {
    case 'starting':
    case 'closing':
      return jsonLine(event.type, { host: event.target.host, port: event.target.port });
    case 'connected':
      return jsonLine(event.type, { host: event.target.host, port: event.target.port, local: event.local, remote: event.remote });
    case 'hint':
    case 'key':
      return undefined;
    case 'frame':
      return jsonLine(event.type, {
        message_type: event.messageType,
        sleep_time: event.frame.header.sleep_time,
        content: event.frame.content.toString('latin1'),
        bytes: event.frame.size,
      });
    case 'statistics':
      return jsonLine(event.type, { reported: event.reported, counted: event.counted, match: event.reported === event.counted });
    case 'bad-statistics':
      return jsonLine(event.type, {
        code: event.error.code,
        message: event.error.message,
        content: event.error.content.toString('latin1'),
        counted: event.counted,
      });
    case 'request':
      return jsonLine(event.type, { request: event.request.toString('latin1') });
    case 'server-error':
    case 'shutdown':
      return jsonLine(event.type, { reason: event.reason.toString('latin1') });
    case 'peer-closed':
      return jsonLine(event.type, {});
    case 'protocol-error':
    case 'connection-error':
      return jsonLine(event.type, { code: event.error.code, message: event.error.message });
    case 'connect-failed':
      return jsonLine(event.type, { host: event.target.host, port: event.target.port, code: event.error.code, message: osErrorText(event.error) });
    case 'tls-untrusted':
      return jsonLine(event.type, {
        host: event.target.host,
        port: event.target.port,
        name: event.name,
        code: event.code,
        message: untrustedReason(event.code, event.certificate),
        ...certificateFields(event.certificate),
      });
    case 'tls-failed':
      return jsonLine(event.type, { host: event.target.host, port: event.target.port, code: event.error.code, message: tlsFailedReason(event.error) });
    case 'tls-insecure':
      return jsonLine(event.type, { host: event.target.host, port: event.target.port, name: event.name, code: event.code, ...certificateFields(event.certificate) });
    case 'idle-timeout':
      return jsonLine(event.type, { host: event.target.host, port: event.target.port, seconds: event.seconds, connected: event.connected });
    case 'reconnecting':
      return jsonLine(event.type, { attempt: event.attempt, attempts: event.attempts, delay_ms: event.delayMs });
    case 'not-connected':
      return jsonLine(event.type, { host: event.target.host, port: event.target.port, requests: event.requests, ever_connected: event.everConnected });
  }
}
