import { once } from 'node:events';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { PREFIX_LENGTH } from '../protocol/frame.js';
import type { ServerConfig } from '../server/config.js';
import type { ListeningWebPort, WebPort } from '../server/server.js';
import type { AcceptHandler, AcceptPipeline } from '../transport/accept.js';
import type { PeerAddress, Transport } from '../transport/transport.js';
import { Heartbeat, WebSocketTransport, type WebSocketForm } from '../transport/websocket.js';
import type { WebConfig } from './config.js';
import { originAllowed } from './origin.js';
import { loadPage, type PageFile } from './page-files.js';

/** The request limits of the server, which the WebSocket message limits follow. */
type Limits = Pick<ServerConfig, 'maxHeaderLength' | 'maxRequestLength'>;

interface Endpoint {
  readonly form: WebSocketForm;
  readonly maxMessageBytes: number;
  readonly server: WebSocketServer;
}

/**
 * The web port: one HTTP listener for the browser client (`/` and its files) and the two
 * WebSocket endpoints (`/ws` binary, `/ws/text` text; PROTOCOL.md, "WebSocket"). Each WebSocket
 * client is handed to the server's `serve`, so it is counted against `--max-clients` and served
 * by the same session as a TCP client.
 */
export function webPort(config: WebConfig, limits: Limits): WebPort {
  return { host: config.host, port: config.port, listen: (serve, port, accept) => listen(config, limits, serve, port ?? config.port, accept) };
}

async function listen(
  config: WebConfig,
  limits: Limits,
  serve: (transport: Transport) => void,
  port: number,
  accept: (ready: AcceptHandler['ready']) => AcceptPipeline,
): Promise<ListeningWebPort> {
  const page = loadPage();
  const heartbeat = new Heartbeat(config.pingIntervalMs);
  // A binary message is one request frame: its prefix, a header and content within the limits.
  const binaryLimit = PREFIX_LENGTH + limits.maxHeaderLength + limits.maxRequestLength;
  const endpoints = new Map<string, Endpoint>([
    ['/ws', endpoint('binary', binaryLimit)],
    ['/ws/text', endpoint('text', limits.maxRequestLength)],
  ]);

  const http = createServer(
    {
      // Slowloris: a request's headers must all arrive within the timeout, checked every second.
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.headersTimeoutMs * 2,
      connectionsCheckingInterval: Math.min(1_000, config.headersTimeoutMs),
    },
    (request, response) => respond(request, response, page),
  );
  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Errors of a socket we are refusing, or that `ws` has not taken over yet, concern no one else.
    socket.on('error', ignore);
    const path = pathOf(request);
    const target = endpoints.get(path);
    if (target === undefined) {
      refuseUpgrade(socket, 404, `no WebSocket endpoint at ${path}: there are /ws (binary frames) and /ws/text (text)`);
      return;
    }
    const origin = request.headers.origin;
    if (!originAllowed(origin, request.headers.host, config.origins)) {
      refuseUpgrade(socket, 403, `pages from ${origin ?? '?'} may not connect here: the server allows them with --web-origin ${origin ?? '?'}`);
      return;
    }
    target.server.handleUpgrade(request, socket, head, (ws) => {
      serve(new WebSocketTransport(ws, socket as Socket, { form: target.form, maxMessageBytes: target.maxMessageBytes, heartbeat, remote: remotes.get(socket) }));
    });
  });
  // The listener is a plain one: each connection passes the same accept stages as on the
  // clients' port (the PROXY header, TLS: so the page is served over HTTPS and the WebSockets
  // are WSS), and only then is it the HTTP server's.
  const remotes = new WeakMap<object, PeerAddress>();
  const stages = accept((socket, remote) => {
    remotes.set(socket, remote);
    http.emit('connection', socket);
  });
  const listener = createNetServer((socket) => stages.accept(socket));
  listener.listen({ host: config.host, port });
  try {
    await Promise.race([once(listener, 'listening'), once(listener, 'error').then(([error]) => Promise.reject(error as Error))]);
  } catch (error) {
    heartbeat.stop();
    throw error;
  }
  const address = listener.address() as AddressInfo;
  // The HTTP server is handed its connections rather than listening itself; 'listening' is what
  // starts its periodic check of request and header timeouts (the slowloris defence), and
  // close() what stops it.
  http.emit('listening');

  return {
    host: config.host,
    port: address.port,
    async close() {
      heartbeat.stop();
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      stages.close();
      http.close(ignore);
      // Page requests and half-sent headers go now; the WebSockets are the server's to close,
      // and the listener is closed once they are.
      http.closeAllConnections();
      await closed;
    },
  };
}

function endpoint(form: WebSocketForm, maxMessageBytes: number): Endpoint {
  const server = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: maxMessageBytes });
  return { form, maxMessageBytes, server };
}

/** The page, its files, and a word for whoever asks for an endpoint without upgrading. */
function respond(request: IncomingMessage, response: ServerResponse, page: ReadonlyMap<string, PageFile>): void {
  for (const [name, value] of Object.entries(securityHeaders(request.headers.host))) response.setHeader(name, value);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    sendText(response, 405, 'only GET and HEAD are served here', { Allow: 'GET, HEAD' });
    return;
  }
  const path = pathOf(request);
  const file = page.get(path);
  if (file !== undefined) {
    response.writeHead(200, { 'Content-Type': file.contentType, 'Content-Length': file.body.length, 'Cache-Control': 'no-cache' });
    response.end(request.method === 'HEAD' ? undefined : file.body);
    return;
  }
  if (path === '/ws' || path === '/ws/text') {
    sendText(response, 426, `${path} is a WebSocket endpoint: connect with a WebSocket client`, { Upgrade: 'websocket', Connection: 'Upgrade' });
    return;
  }
  sendText(response, 404, `nothing at ${path}: the browser client is at /`);
}

/**
 * What every response carries. The policy lets the page run only its own script and style and
 * connect only to its own server: no inline script, nothing from another origin, no framing.
 */
export function securityHeaders(host: string | undefined): Record<string, string> {
  // The WebSocket of the page's own host, named as well as 'self': older browsers do not count
  // ws: as 'self'. Only a plain host[:port] is echoed into the policy.
  const sockets = host !== undefined && /^[A-Za-z0-9.:[\]-]+$/.test(host) ? ` ws://${host} wss://${host}` : '';
  return {
    'Content-Security-Policy': `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'${sockets}; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
}

function sendText(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  const body = `${text}\n`;
  response.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

/** An upgrade refused before any WebSocket exists: an HTTP answer that says why, then the socket closes. */
function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  const body = `${text}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function ignore(): void {}
