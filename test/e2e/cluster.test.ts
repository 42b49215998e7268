/**
 * `--workers N`: the built server as N processes on one port. Clients are served and answered
 * exactly whichever worker they land on, a killed worker is replaced on the same port (workers
 * killed together too), a crash loop stops the server, one signal (or one Ctrl-C to the whole
 * process group) drains every worker with one set of lines, even the moment the server says it
 * listens, and the metrics are the sum of the workers'.
 *
 * Which worker serves a client is read from Linux's /proc: the server end of the connection's
 * socket inode (/proc/net/tcp) among the workers' open files.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { after, describe, test } from 'node:test';
import { MessageType } from '../../src/protocol/frame.js';
import { fetchMetrics } from '../support/metrics.js';
import { assertExactAnswers, RawClient, symbolsIn } from '../support/net.js';
import { killAll, spawnServer, spawnShellInPty, stopAtListening, waitForLines, type Proc } from '../support/process.js';
import { waitFor } from '../support/wait.js';

after(async () => {
  await killAll();
});

const LISTENING = /^listening on \('127\.0\.0\.1', (\d+)\)$/;
const FAST = ['--interval', '0.05-0.1'] as const;

/** The processes `pid` started (its workers). */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** Whether `pid` still runs (a zombie, dead but not yet reaped, does not). */
function isRunning(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Resolves once none of `pids` runs: a process that is not our child tells nobody when it ends. */
function allGone(pids: readonly number[]): Promise<void> {
  return waitFor(() => !pids.some(isRunning), { timeoutMs: 3_000, what: `processes ${pids.join(', ')} to end` });
}

/** The worker, among `candidates`, that holds the server end of `client`'s connection. */
function workerServing(client: RawClient, serverPort: number, candidates: readonly number[]): number | undefined {
  const hex = (port: number): string => port.toString(16).toUpperCase().padStart(4, '0');
  const row = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((fields) => fields[1]?.endsWith(`:${hex(serverPort)}`) && fields[2]?.endsWith(`:${hex(client.localPort)}`));
  const socket = `socket:[${row?.[9] ?? '?'}]`;
  return candidates.find((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`) === socket;
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}

/** Both of the server's workers serve clients on `port`, exactly. */
async function bothServe(server: Proc, port: number): Promise<void> {
  const workers = childrenOf(server.pid);
  assert.equal(workers.length, 2, server.describe());
  const clients = await connectClients(port, 4);
  await Promise.all(clients.map(assertExactAnswers));
  const serving = new Set(clients.map((client) => workerServing(client, port, workers)));
  assert.deepEqual(serving, new Set(workers), `both workers serve clients on port ${port}\n${server.describe()}`);
  for (const client of clients) client.destroy();
}

/** Connects one client after another: node:cluster then hands them to the workers in turn. */
async function connectClients(port: number, count: number): Promise<RawClient[]> {
  const clients: RawClient[] = [];
  for (let i = 0; i < count; i++) {
    const client = await RawClient.connect(port);
    await client.nextFrame(MessageType.symbols);
    clients.push(client);
  }
  return clients;
}

function count(proc: Proc, pattern: RegExp): number {
  return proc.out.lines.filter((line) => pattern.test(line)).length;
}

describe('--workers N', { concurrency: true }, () => {
  test('two workers share one port 0: all served exactly, a killed worker is replaced, SIGTERM drains them all', async () => {
    const server = spawnServer(['127.0.0.1', '0', 'quiet', '--workers', '2', ...FAST]);
    const port = Number((await server.waitForLine(LISTENING))[1]);
    const workers = childrenOf(server.pid);
    assert.equal(workers.length, 2, server.describe());

    const clients = await connectClients(port, 6);
    await Promise.all(clients.map(assertExactAnswers));
    const servedBy = new Map(clients.map((client) => [client, workerServing(client, port, workers)]));
    assert.deepEqual(new Set(servedBy.values()), new Set(workers), 'both workers serve clients on the one port');

    const [victim = 0, survivor = 0] = workers;
    process.kill(victim, 'SIGKILL');
    const [, slot] = await server.waitForLine(new RegExp(`^worker (\\d) \\(pid ${victim}\\) died \\(SIGKILL\\), starting a replacement$`));
    const replacement = Number((await server.waitForLine(new RegExp(`^worker ${slot} restarted \\(pid (\\d+)\\)$`)))[1]);
    assert.deepEqual(childrenOf(server.pid).sort(), [survivor, replacement].sort(), server.describe());

    // The killed worker's clients lost their connection; nobody else noticed.
    const lost = clients.filter((client) => servedBy.get(client) === victim);
    const kept = clients.filter((client) => servedBy.get(client) === survivor);
    await Promise.all(lost.map((client) => client.waitClosed()));
    for (const client of lost) assert.ok(!client.history.some((frame) => frame.type === MessageType.shutdown));
    await Promise.all(kept.map(assertExactAnswers));

    const newcomers = await connectClients(port, 4);
    await Promise.all(newcomers.map(assertExactAnswers));
    const newServers = new Set(newcomers.map((client) => workerServing(client, port, [survivor, replacement])));
    assert.ok(newServers.has(replacement), 'the replacement serves new clients on the same port');

    server.kill('SIGTERM');
    const open = [...kept, ...newcomers];
    for (const client of open) {
      const frame = await client.nextFrame(MessageType.shutdown);
      assert.equal(frame.header['message-type'], 'shutdown');
      await client.waitClosed();
    }
    await server.waitForLine(new RegExp(`^shutting down: SIGTERM \\(${open.length} clients connected\\)$`));
    await server.waitForLine(/^stopped$/);
    assert.deepEqual(await server.waitForExit(), { code: 0, signal: null }, server.describe());
    assert.equal(count(server, LISTENING), 1, `one listening line\n${server.describe()}`);
    assert.equal(count(server, /^shutting down: /), 1, server.describe());
    assert.equal(count(server, /^stopped/), 1, server.describe());
    assert.equal(server.err.text, '', server.describe());
    // The primary waited for their exits: they are gone already.
    assert.ok(![survivor, replacement].some(isRunning), 'no worker outlives the primary');
  });

  test('Ctrl-C in a terminal (SIGINT to the whole process group) is one clean drain; a second one stops at once', async () => {
    const server = spawnShellInPty(`exec "$NODE" "$SERVER" 127.0.0.1 0 user --workers 2 ${FAST.join(' ')} --shutdown-timeout 30`);
    const port = Number((await server.waitForLine(LISTENING))[1]);
    const clients = await connectClients(port, 2);
    server.write('\x03');
    for (const client of clients) await client.nextFrame(MessageType.shutdown);
    // The terminal echoes ^C, on the line the server's first line follows.
    await server.waitForLine(/Caught keyboard interrupt, exiting$/);
    await server.waitForLine(/^shutting down: SIGINT \(2 clients connected\)$/);
    await server.waitForLine(/^stopped$/);
    assert.deepEqual(await server.waitForExit(), { code: 0, signal: null }, server.describe());
    assert.equal(count(server, /Caught keyboard interrupt/), 1, server.describe());
    assert.equal(count(server, /died/), 0, `no worker died of the Ctrl-C\n${server.describe()}`);

    // A peer that never closes its side keeps the drain waiting (30 s): a second Ctrl-C ends it.
    const again = spawnShellInPty(`echo "server-pid=$$"; exec "$NODE" "$SERVER" 127.0.0.1 0 quiet --workers 2 ${FAST.join(' ')} --shutdown-timeout 30`);
    const [, serverPid] = await again.waitForLine(/^server-pid=(\d+)$/);
    const againPort = Number((await again.waitForLine(LISTENING))[1]);
    const workers = childrenOf(Number(serverPid));
    const silent = connect({ host: '127.0.0.1', port: againPort, allowHalfOpen: true });
    silent.on('error', () => undefined);
    await once(silent, 'connect');
    again.write('\x03');
    await again.waitForLine(/shutting down: .*\(1 client connected\)$/);
    again.write('\x03');
    assert.deepEqual(await again.waitForExit(), { code: 130, signal: null }, again.describe());
    assert.equal(count(again, /^stopped/), 0, again.describe());
    silent.destroy();
    // Killed with SIGKILL by the primary on its way out.
    await allGone(workers);
  });

  // The primary handles its signals, and a worker its SIGTERM, before `listening on` is out
  // (written on another thread): a script that signals the moment it reads the line gets what
  // the README promises, not a process ended by a signal it did not handle yet.
  test("a signal the moment 'listening on' is read: to the primary, one clean drain; to each worker, each drains and is replaced", async () => {
    for (let round = 0; round < 3; round++) {
      const server = await stopAtListening(['--workers', '2', ...FAST]);
      assert.equal(count(server, /died/), 0, server.describe());
    }

    const server = spawnServer(['127.0.0.1', '0', 'quiet', '--workers', '2', ...FAST]);
    const port = Number((await server.waitForLine(LISTENING))[1]);
    for (const worker of childrenOf(server.pid)) process.kill(worker, 'SIGTERM');
    await waitForLines(server, /^worker \d restarted /, 2);
    // Each drained (exit code 0): none was ended by the signal's default action.
    assert.equal(count(server, /died \(SIGTERM\)/), 0, server.describe());
    await bothServe(server, port);
    server.kill('SIGTERM');
    assert.deepEqual(await server.waitForExit(), { code: 0, signal: null }, server.describe());
  });

  test('workers killed together are replaced on the same port, not in a crash loop', async () => {
    const server = spawnServer(['127.0.0.1', '0', 'quiet', '--workers', '2', ...FAST]);
    const port = Number((await server.waitForLine(LISTENING))[1]);
    for (const worker of childrenOf(server.pid)) process.kill(worker, 'SIGKILL');
    await waitForLines(server, /^worker \d restarted /, 2);
    await bothServe(server, port);
    assert.equal(count(server, /^error: /), 0, server.describe());
    server.kill('SIGTERM');
    assert.deepEqual(await server.waitForExit(), { code: 0, signal: null }, server.describe());
  });

  test('workers that keep dying stop the server with exit 1', async () => {
    const server = spawnServer(['127.0.0.1', '0', 'quiet', '--workers', '2', ...FAST]);
    await server.waitForLine(LISTENING);
    // The guard allows max(5, N) deaths within 10 s; the 6th stops the server.
    for (let death = 1; death <= 6; death++) {
      const [victim = 0] = childrenOf(server.pid);
      process.kill(victim, 'SIGKILL');
      if (death < 6) await server.waitForLine(/^worker \d restarted \(pid \d+\)$/);
    }
    await server.waitForLine(/^worker \d \(pid \d+\) died \(SIGKILL\)$/);
    await server.waitForLine(/^error: 6 worker deaths within 10 s; stopping the server$/);
    await server.waitForLine(/^shutting down: workers keep dying /);
    await server.waitForLine(/^stopped$/);
    assert.deepEqual(await server.waitForExit(), { code: 1, signal: null }, server.describe());
  });

  test('--metrics is served once, by the primary, with the workers summed', async () => {
    const server = spawnServer(['127.0.0.1', '0', 'quiet', '--workers', '2', '--metrics', '127.0.0.1:0', ...FAST]);
    const port = Number((await server.waitForLine(LISTENING))[1]);
    const [, url = ''] = await server.waitForLine(/^metrics on (http:\/\/\S+)$/);
    const clients = await connectClients(port, 3);
    const workers = childrenOf(server.pid);
    assert.equal(new Set(clients.map((client) => workerServing(client, port, workers))).size, 2, 'both workers have clients');
    await Promise.all(clients.map((client) => client.nextFrames(2, MessageType.symbols)));
    // Counted when written, so at least what the clients have received by now.
    const symbols = clients.reduce((sum, client) => sum + symbolsIn(client.history), 0);
    const metrics = await fetchMetrics(url);
    assert.equal(metrics.get('multi_socket_clients'), 3);
    assert.equal(metrics.get('multi_socket_accepted_total'), 3);
    assert.equal(metrics.get('multi_socket_workers'), 2);
    const chunks = metrics.get('multi_socket_chunks_total') ?? 0;
    assert.ok(chunks >= 3 * 3, `every client's chunks are counted: ${chunks}`);
    assert.ok((metrics.get('multi_socket_chunk_lateness_seconds_count') ?? 0) >= 3 * 3, 'the lateness histograms are summed');
    assert.ok((metrics.get('multi_socket_symbols_total') ?? 0) >= symbols, 'symbols are summed');
    server.kill('SIGTERM');
    assert.deepEqual(await server.waitForExit(), { code: 0, signal: null }, server.describe());
    assert.equal(count(server, /^metrics on /), 1, server.describe());
  });

  for (const bad of ['0', '65', 'two']) {
    test(`--workers ${bad} is a usage error`, async () => {
      const server = spawnServer(['127.0.0.1', '0', 'quiet', '--workers', bad], 'ignore');
      assert.deepEqual(await server.waitForExit(), { code: 2, signal: null }, server.describe());
      assert.match(server.err.lines[0] ?? '', new RegExp(`invalid --workers '${bad}': expected a whole number from 1 to 64`), server.describe());
    });
  }
});
