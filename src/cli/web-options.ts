import { DEFAULT_WEB_TIMINGS, type WebConfig } from '../web/config.js';
import { normalizeOrigin } from '../web/origin.js';
import { stringValue, type CommandLine } from './command-line.js';
import { parsePort, UsageError } from './values.js';

/** The web port's options, for the server command's table of options. */
export const WEB_OPTIONS = {
  web: { type: 'string' },
  'web-origin': { type: 'string' },
} as const;

export const WEB_USAGE = `  --web [HOST:]PORT          serve the browser client at http://HOST:PORT/ and WebSocket
                             clients at /ws (binary frames) and /ws/text (text); HOST
                             defaults to the server's host; PORT 0 picks a free one (default: off)
  --web-origin ORIGIN[,ORIGIN...]
                             other sites whose pages may connect to the web port, e.g.
                             https://example.org (default: only the server's own page)`;

/** `--web` and `--web-origin` to the web port's configuration, or undefined if it is off. */
export function webConfigFrom(line: CommandLine): WebConfig | undefined {
  const address = stringValue(line, 'web');
  const origins = stringValue(line, 'web-origin');
  if (address === undefined) {
    if (origins !== undefined) throw new UsageError('--web-origin needs --web: it says who may connect to the web port');
    return undefined;
  }
  return { ...parseWebAddress(address, line.host), origins: origins === undefined ? [] : parseOrigins(origins), ...DEFAULT_WEB_TIMINGS };
}

/** `PORT`, `HOST:PORT` or `[IPv6]:PORT`; the host defaults to the server's own. */
export function parseWebAddress(text: string, serverHost: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]:|([^:[\]]+):)?(\d+)$/.exec(text);
  if (match === null) throw new UsageError(`invalid --web '${text}': expected PORT, HOST:PORT or [IPv6]:PORT`);
  return { host: match[1] ?? match[2] ?? serverHost, port: parsePort(match[3] as string) };
}

/** Comma-separated origins, each `http(s)://host[:port]`, in the form browsers send them. */
export function parseOrigins(text: string): string[] {
  return text.split(',').map((part) => {
    const origin = normalizeOrigin(part.trim());
    if (origin === undefined) throw new UsageError(`invalid --web-origin '${part}': expected an origin such as https://example.org or http://localhost:3000`);
    return origin;
  });
}
