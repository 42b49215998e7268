import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Monitor, ListenAddress } from '../server/monitoring.js';
import { loadAssets } from './assets.js';
import { parseConnzQuery, type ConnzQuery } from './connz.js';
import { EventStream } from './event-stream.js';
import type { Connz } from './figures.js';
import type { Sampler } from './sampler.js';
import type { Varz } from './varz.js';

/** What the listener serves, from one server process or from the primary of many. */
export interface MonitorBackend {
  /** Whether the server accepts clients (`/readyz`). */
  ready(): boolean;
  varz(): Promise<Varz>;
  connz(query: ConnzQuery): Promise<Connz>;
  /** The Prometheus text of `/metrics`. */
  metrics(): Promise<{ readonly text: string; readonly contentType: string }>;
  readonly sampler: Sampler;
}

/**
 * Every response's headers. The page's script and styles come from this origin alone and
 * nothing inline runs: whatever a peer's address or an error code holds is shown as text.
 */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
};

const ENDPOINTS = ['/', '/events', '/varz', '/connz', '/healthz', '/readyz', '/metrics'];

/**
 * The monitor's HTTP listener: the dashboard page, the figures as Server-Sent Events, the
 * totals, the connections, health and readiness, and Prometheus's `/metrics`. Starts the
 * sampler; resolves once listening.
 */
export async function startListener(backend: MonitorBackend, where: ListenAddress): Promise<Monitor> {
  const assets = loadAssets();
  const stream = new EventStream();
  backend.sampler.onFigures((figures) => stream.publish(figures));
  // A loopback listener answers loopback names only: a web page cannot read it through a
  // name of its own that resolves here (DNS rebinding).
  const loopbackOnly = isLoopback(where.host);

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      text(response, 405, 'only GET and HEAD\n', { allow: 'GET, HEAD' });
      return;
    }
    if (loopbackOnly && !isLoopback(hostOf(request.headers.host))) {
      text(response, 421, 'this listener answers loopback names only (localhost, 127.0.0.1, [::1])\n');
      return;
    }
    const url = new URL(request.url ?? '/', 'http://monitor');
    switch (url.pathname) {
      case '/metrics': {
        const { text: body, contentType } = await backend.metrics();
        response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
        return;
      }
      case '/events':
        stream.attach(request, response, SECURITY_HEADERS, url.searchParams.get('backlog'));
        return;
      case '/varz':
        json(response, 200, await backend.varz());
        return;
      case '/connz': {
        const query = parseConnzQuery(url.searchParams);
        if ('error' in query) json(response, 400, { error: query.error });
        else json(response, 200, await backend.connz(query));
        return;
      }
      case '/healthz':
        json(response, 200, { status: 'ok' });
        return;
      case '/readyz':
        if (backend.ready()) json(response, 200, { status: 'ok' });
        else json(response, 503, { status: 'unavailable', reason: 'the server is shutting down' });
        return;
      default: {
        const asset = assets.get(url.pathname);
        if (asset !== undefined) {
          response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'cache-control': 'no-cache' }).end(asset.body);
        } else if (url.pathname === '/') {
          text(response, 500, 'the dashboard page is missing from this installation (npm run build makes it)\n');
        } else {
          text(response, 404, `not found: try ${ENDPOINTS.join(', ')}\n`);
        }
      }
    }
  };

  // A page's polls come a few seconds apart: its connection is kept between them. Headers and
  // requests still have to come in whole within a bound (slowloris).
  const server = createServer({ keepAliveTimeout: 10_000, headersTimeout: 15_000, requestTimeout: 20_000 }, (request, response) => {
    route(request, response).catch((error: unknown) => {
      if (!response.headersSent) text(response, 500, `${error instanceof Error ? error.message : String(error)}\n`);
      else response.destroy();
    });
  });
  server.listen({ host: where.host, port: where.port });
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([error]) => Promise.reject(error as Error))]);
  backend.sampler.start();
  return {
    address: server.address() as AddressInfo,
    async close() {
      backend.sampler.stop();
      stream.close();
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(`${JSON.stringify(body, null, 2)}\n`);
}

function text(response: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { ...SECURITY_HEADERS, ...headers, 'content-type': 'text/plain; charset=utf-8' }).end(body);
}

/** The name in a Host header, without the port (`[::1]:9464` -> `::1`); '' if there is none. */
function hostOf(header: string | undefined): string {
  if (header === undefined) return '';
  try {
    return new URL(`http://${header}`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return header;
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
