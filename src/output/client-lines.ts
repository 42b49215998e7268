import type { ClientEvent } from '../client/events.js';
import { jsonLine } from './json-line.js';
import type { Mode } from './mode.js';
import { addressLabel, bytesRepr, osErrorText, sleepyLine } from './python-repr.js';

export const HINT = "Press 's' for statistics or 'q' to quit.";

/**
 * What each client event looks like in each mode; undefined when the mode does not show it.
 *
 * `user` prints the original's lines. `debug` adds headers, whole frames, addresses and the
 * client's own count beside the server's figure. `quiet` keeps the statistics and the errors.
 * `json` prints one object per event.
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
    case 'server-error':
      return `error: server says: ${event.reason}`;
    case 'shutdown':
      return `server shutting down: ${event.reason}`;
    case 'peer-closed':
      // The original client's words, period included.
      return 'error: Peer closed.';
    case 'protocol-error':
      return `error: ${event.error.message} (${event.error.code})`;
    case 'connection-error':
      return `error: ${osErrorText(event.error)}`;
    case 'connect-failed':
      return `error: cannot connect to ${addressLabel(event.target)}: ${osErrorText(event.error)}`;
    case 'reconnecting': {
      const of = event.attempts === 0 ? '' : ` of ${event.attempts}`;
      return `reconnecting to ${addressLabel(event.target)} in ${(event.delayMs / 1000).toFixed(1)} s (attempt ${event.attempt}${of})`;
    }
    case 'not-connected':
      return 'error: not connected, statistics can be asked once the connection is back';
    default:
      return undefined;
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
        `${time} received ${header['content-type']} response from ${addressLabel(event.target)}: ` +
        `${event.messageType}, ${size} bytes, header ${JSON.stringify(header)}\n` +
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
      return line === undefined ? undefined : `${time} ${line}`;
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
    case 'request':
      return jsonLine(event.type, { request: event.request.toString('latin1') });
    case 'server-error':
    case 'shutdown':
      return jsonLine(event.type, { reason: event.reason });
    case 'peer-closed':
      return jsonLine(event.type, {});
    case 'protocol-error':
    case 'connection-error':
      return jsonLine(event.type, { code: event.error.code, message: event.error.message });
    case 'connect-failed':
      return jsonLine(event.type, { host: event.target.host, port: event.target.port, code: event.error.code, message: osErrorText(event.error) });
    case 'reconnecting':
      return jsonLine(event.type, { attempt: event.attempt, attempts: event.attempts, delay_ms: event.delayMs });
    case 'not-connected':
      return jsonLine(event.type, {});
  }
}
