/**
 * Opens connections to the server as fast as it takes them, a fixed number at a time, for a
 * fixed time: each one counts once it is established (for TLS, once the handshake is done) and
 * is then closed cleanly, making room for the next. Run as a process of its own, so that its
 * loop is not the coordinator's.
 */
import { connect, type Socket } from 'node:net';
import { setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { connect as connectTls } from 'node:tls';

export interface HandshakePlan {
  readonly host: string;
  readonly port: number;
  /** A loopback source address of its own, so that its ports are not the held clients'. */
  readonly source: string;
  readonly seconds: number;
  readonly concurrency: number;
  /** TLS, trusting these CA certificates (PEM). */
  readonly tls?: { readonly ca: string };
}

export interface HandshakeReport {
  readonly established: number;
  readonly failed: number;
  readonly seconds: number;
}

// Load, as the hostile connections are: the server and the checking clients get the CPU first.
try {
  setPriority(19);
} catch {
  // Not allowed here: measure anyway.
}

process.once('message', (plan: HandshakePlan) => {
  void churn(plan).then((report) => {
    process.send?.(report);
    process.disconnect?.();
  });
});

function churn(plan: HandshakePlan): Promise<HandshakeReport> {
  const started = performance.now();
  const until = started + plan.seconds * 1000;
  let established = 0;
  let failed = 0;
  let open = 0;
  return new Promise((resolve) => {
    const one = (): void => {
      open++;
      const where = { host: plan.host, port: plan.port, localAddress: plan.source };
      const socket: Socket = plan.tls === undefined ? connect(where) : connectTls({ ...where, ca: plan.tls.ca });
      let counted = false;
      socket.once(plan.tls === undefined ? 'connect' : 'secureConnect', () => {
        counted = true;
        established++;
        socket.end();
      });
      socket.on('error', () => undefined);
      socket.once('close', () => {
        if (!counted) failed++;
        open--;
        if (performance.now() < until) one();
        else if (open === 0) resolve({ established, failed, seconds: (performance.now() - started) / 1000 });
      });
    };
    for (let i = 0; i < plan.concurrency; i++) one();
  });
}
