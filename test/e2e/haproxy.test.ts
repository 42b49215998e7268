/**
 * Scale-out behind the real HAProxy (Debian's), with deploy/haproxy.cfg: TCP mode, PROXY v2 to
 * the servers, TCP health checks that send a PROXY v2 LOCAL header, leastconn.
 *
 * The servers run on hosts of their own: network namespaces joined to this one by veth pairs,
 * each in 10.77.N.0/24 (HAProxy at .1 on our side, the server at .2 inside), so every server
 * sees HAProxy, and HAProxy every server, at a different address. Where namespaces cannot be
 * made (no CAP_NET_ADMIN, no iproute2) the same test runs with the servers on loopback
 * addresses, and says so. Clients connect to HAProxy on 127.0.0.1 from 127.0.0.2, .3 and .4, so
 * each server must name them by the address the PROXY header carries, not HAProxy's.
 *
 * The steps share one set-up and run in order: streaming with exact statistics, a SIGTERM
 * (shutdown frame, the health check seeing the server leave while it is still draining,
 * `--reconnect` clients back on the others), then a SIGKILL that costs only its own clients.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MessageType } from '../../src/protocol/frame.js';
import { RawClient } from '../support/net.js';
import { ChildProc, FAST, freePort, killAll, spawnClient, type Proc } from '../support/process.js';
import { SERVER_ARGV } from '../support/programs.js';
import { withTimeout } from '../support/wait.js';

const HAPROXY_CFG = fileURLToPath(new URL('../../../deploy/haproxy.cfg', import.meta.url));
const HOSTS = 3;
const CLIENT_SOURCES = ['127.0.0.2', '127.0.0.3', '127.0.0.4'] as const;
/** Far longer than HAProxy takes to see a server go: its checks must not wait for the exit. */
const SHUTDOWN_TIMEOUT_S = 10;
const WAIT_MS = 10_000;

const NO_HAPROXY: string | false = spawnSync('haproxy', ['-v']).status === 0 ? false : "Debian's haproxy is not installed (apt-get install haproxy)";

interface Host {
  readonly name: string;
  /** Where the server listens, and where HAProxy reaches it. */
  readonly address: string;
  /** HAProxy's address as the server sees it, for --proxy-trusted (namespaces only). */
  readonly gateway?: string;
  readonly namespace?: string;
}

interface RunningHost extends Host {
  readonly proc: ChildProc;
  readonly port: number;
}

/** Namespaces and links made here, removed in after() whatever happened. */
const made = { namespaces: [] as string[], links: [] as string[] };
const scratch = mkdtempSync(join(tmpdir(), 'msa-haproxy-'));

function ip(...args: string[]): void {
  const run = spawnSync('ip', args, { encoding: 'utf8', timeout: 5_000 });
  if (run.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(run.stderr || run.error?.message) ?? `status ${run.status}`}`.trim());
}

/** Hosts as network namespaces, or else as loopback addresses (with the reason). */
function makeHosts(): { hosts: Host[]; fallback?: string } {
  try {
    const hosts: Host[] = [];
    for (let n = 1; n <= HOSTS; n++) {
      // Interface names are at most 15 characters; a pid has at most 7 digits.
      const namespace = `msa-${process.pid}-${n}`;
      const outside = `msa${process.pid}h${n}`;
      const inside = `msa${process.pid}n${n}`;
      ip('netns', 'add', namespace);
      made.namespaces.push(namespace);
      ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside, 'netns', namespace);
      made.links.push(outside);
      ip('addr', 'add', `10.77.${n}.1/24`, 'dev', outside);
      ip('link', 'set', outside, 'up');
      ip('-n', namespace, 'addr', 'add', `10.77.${n}.2/24`, 'dev', inside);
      ip('-n', namespace, 'link', 'set', inside, 'up');
      ip('-n', namespace, 'link', 'set', 'lo', 'up');
      hosts.push({ name: `host${n}`, address: `10.77.${n}.2`, gateway: `10.77.${n}.1`, namespace });
    }
    return { hosts };
  } catch (error) {
    removeHosts();
    const hosts = Array.from({ length: HOSTS }, (_, i) => ({ name: `host${i + 1}`, address: `127.0.1.${i + 1}` }));
    return { hosts, fallback: (error as Error).message };
  }
}

function removeHosts(): void {
  // Deleting a namespace deletes the veth end inside it, and with it the end outside.
  for (const namespace of made.namespaces.splice(0)) spawnSync('ip', ['netns', 'del', namespace], { timeout: 5_000 });
  for (const link of made.links.splice(0)) spawnSync('ip', ['link', 'del', link], { stdio: 'ignore', timeout: 5_000 });
}

async function startServer(host: Host): Promise<RunningHost> {
  const options = [host.address, '0', 'json', '--proxy-protocol', ...FAST, '--shutdown-timeout', String(SHUTDOWN_TIMEOUT_S)];
  if (host.gateway !== undefined) options.push('--proxy-trusted', `${host.gateway}/32`);
  const server = [process.execPath, ...SERVER_ARGV, ...options];
  // `ip netns exec` execs the program in place: the child's pid is the server's, for the signals.
  const [command, ...args] = host.namespace === undefined ? server : ['ip', 'netns', 'exec', host.namespace, ...server];
  const proc = new ChildProc(`server ${host.name}`, command as string, args);
  const { input } = await proc.waitForLine(/"event":"listening"/, { timeoutMs: WAIT_MS });
  return { ...host, proc, port: (JSON.parse(input ?? '') as { port: number }).port };
}

/**
 * deploy/haproxy.cfg with this run's addresses, ports, socket and a short check interval; each
 * replacement must find its line, so the test follows the committed file or fails.
 */
function haproxyConfig(frontendPort: number, hosts: readonly RunningHost[], socket: string): string {
  let text = readFileSync(HAPROXY_CFG, 'utf8');
  const replace = (pattern: RegExp, by: string | ((...match: string[]) => string), count = 1): void => {
    const found = text.match(new RegExp(pattern.source, 'gm'))?.length ?? 0;
    assert.equal(found, count, `deploy/haproxy.cfg: ${count} line(s) matching ${String(pattern)}`);
    text = text.replace(new RegExp(pattern.source, 'gm'), by as string);
  };
  replace(/^(\s*bind )\S+/, `$1127.0.0.1:${frontendPort}`);
  replace(/^(\s*stats socket )\S+/, `$1${socket}`);
  // 20000 needs 40000 descriptors, more than a test machine may allow.
  replace(/^(\s*maxconn )\d+/, '$11000');
  replace(/^(\s*default-server .*\binter )\S+/, '$1100ms');
  let n = 0;
  replace(/^(\s*server )(\S+) \S+/, (_whole, indent) => {
    const host = hosts[n++] as RunningHost;
    return `${indent}${host.name} ${host.address}:${host.port}`;
  }, hosts.length);
  return text;
}

/**
 * Resolves once HAProxy answers on its stats socket. HAProxy announces nothing when it has
 * started (its `-Ws` notification needs systemd's datagram socket), and its socket file exists
 * before it listens: so this asks again while the answer is ECONNREFUSED or ENOENT, bounded.
 */
async function serving(socket: string, proc: Proc): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      await statsCommand(socket, 'show info');
      return;
    } catch (error) {
      if (!proc.running || Date.now() > deadline) throw new Error(`HAProxy does not answer on ${socket}: ${(error as Error).message}\n${proc.describe()}`, { cause: error });
      await delay(20);
    }
  }
}

/** One command on HAProxy's stats socket, and its whole answer. */
function statsCommand(socket: string, command: string): Promise<string> {
  const answer = new Promise<string>((resolve, reject) => {
    let text = '';
    const conn = connect(socket, () => conn.end(`${command}\n`));
    conn.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    conn.on('end', () => resolve(text));
    conn.on('error', reject);
  });
  return withTimeout(answer, WAIT_MS, `HAProxy's answer to '${command}'`);
}

/** `show servers state`: each server's operational state (0 stopped, 2 running). */
async function serverStates(socket: string): Promise<Map<string, number>> {
  const states = new Map<string, number>();
  for (const line of (await statsCommand(socket, 'show servers state servers')).split('\n')) {
    // be_id be_name srv_id srv_name srv_addr srv_op_state ...
    const fields = line.split(' ');
    if (line.startsWith('#') || fields.length < 6) continue;
    states.set(fields[3] as string, Number(fields[5]));
  }
  return states;
}

const escape = (text: string): string => text.replace(/[.]/g, '\\.');
const peerIs = (host: string, port: number): string => `"peer":\\{"id":\\d+,"host":"${escape(host)}","port":${port}\\}`;

/** The server that printed `pattern`, searched in all of them (it may not have printed it yet). */
async function whichServer(hosts: readonly RunningHost[], pattern: RegExp): Promise<RunningHost> {
  try {
    return await Promise.any(hosts.map((host) => host.proc.waitForLine(pattern, { fromStart: true, timeoutMs: WAIT_MS }).then(() => host)));
  } catch {
    throw new Error(`no server printed ${String(pattern)}`);
  }
}

/** Lines of `proc` matching `pattern` so far, parsed. */
function events<T>(proc: Proc, pattern: RegExp): T[] {
  return proc.out.lines.filter((line) => pattern.test(line)).map((line) => JSON.parse(line) as T);
}

interface Built {
  readonly proc: ChildProc;
  /** The server of each of its connections, in order. */
  readonly servers: RunningHost[];
}

after(async () => {
  await killAll();
  removeHosts();
  rmSync(scratch, { recursive: true, force: true });
});

void describe('behind HAProxy, across hosts', { skip: NO_HAPROXY, timeout: 120_000 }, () => {
  let hosts: RunningHost[] = [];
  let haproxy: ChildProc;
  let frontendPort = 0;
  const socket = join(scratch, 'admin.sock');
  const raw: { client: RawClient; server: RunningHost }[] = [];
  const built: Built[] = [];
  let answersChecked = 0;

  /** Where a client's connection landed, by the address and port HAProxy's PROXY header gave. */
  const serverOf = (host: string, port: number): Promise<RunningHost> => whichServer(hosts, new RegExp(`"event":"accepted",${peerIs(host, port)}`));
  const survivors = (...gone: RunningHost[]): RunningHost[] => hosts.filter((host) => !gone.includes(host));

  /** Statistics on a raw client: the server's count equals what arrived through HAProxy. */
  async function exactRaw(client: RawClient): Promise<void> {
    await client.nextFrames(2, MessageType.symbols, WAIT_MS);
    const answer = await client.statistics(WAIT_MS);
    assert.ok(answer.count > 0, `${client.label}: something was delivered`);
    assert.equal(answer.count, answer.receivedSinceLast, `${client.label}: exact statistics`);
    answersChecked++;
  }

  /** Statistics on a built client: its own `statistics` event says whether the counts match. */
  async function exactBuilt({ proc }: Built): Promise<void> {
    const earlier = events(proc, /"event":"statistics"/).length;
    await proc.waitForLine(/"event":"frame","message_type":"symbols"/, { timeoutMs: WAIT_MS });
    proc.write('s');
    for (let seen = earlier; seen <= earlier; ) {
      await proc.waitForLine(/"event":"statistics"/, { timeoutMs: WAIT_MS });
      seen = events(proc, /"event":"statistics"/).length;
    }
    const all = events<{ match: boolean; reported: number; counted: number }>(proc, /"event":"statistics"/);
    for (const each of all) assert.equal(each.match, true, `${proc.name}: ${JSON.stringify(each)}`);
    answersChecked++;
  }

  /** The n-th connection of a built client (from 0), and the server it landed on. */
  async function connection({ proc, servers }: Built, n: number): Promise<RunningHost> {
    while (events(proc, /"event":"connected"/).length <= n) await proc.waitForLine(/"event":"connected"/, { timeoutMs: WAIT_MS });
    const { local } = events<{ local: string }>(proc, /"event":"connected"/)[n] as { local: string };
    const [host, port] = local.split(/:(?=\d+$)/) as [string, string];
    const server = await serverOf(host, Number(port));
    servers[n] = server;
    return server;
  }

  before(async () => {
    const { hosts: planned, fallback } = makeHosts();
    if (fallback === undefined) console.log(`# hosts: ${HOSTS} network namespaces over veth pairs, 10.77.1-${HOSTS}.0/24`);
    else console.log(`# network namespaces cannot be made here (${fallback}): the servers run on loopback addresses 127.0.1.1-${HOSTS} instead`);
    hosts = await Promise.all(planned.map(startServer));
    frontendPort = await freePort();
    const config = join(scratch, 'haproxy.cfg');
    writeFileSync(config, haproxyConfig(frontendPort, hosts, socket));
    haproxy = new ChildProc('haproxy', 'haproxy', ['-db', '-f', config]);
    await serving(socket, haproxy);
    const states = await serverStates(socket);
    assert.deepEqual([...states.keys()], hosts.map((host) => host.name));
  });

  void test('clients from several addresses stream through HAProxy with exact statistics, each server naming their real address', async () => {
    for (let i = 0; i < 2 * HOSTS; i++) {
      const source = CLIENT_SOURCES[i % CLIENT_SOURCES.length] as string;
      const client = await RawClient.connect(frontendPort, { localAddress: source });
      assert.equal(client.localAddress, source);
      raw.push({ client, server: await serverOf(source, client.localPort) });
    }
    await Promise.all(raw.map(async ({ client }) => [await exactRaw(client), await exactRaw(client)]));
    for (const host of hosts) {
      const peers = events<{ peer: { host: string } }>(host.proc, /"event":"accepted"/).map((event) => event.peer.host);
      // leastconn over idle servers: each gets its share; and every one is a client's address, never HAProxy's.
      assert.ok(peers.length >= 1, `${host.name} got clients`);
      for (const peer of peers) assert.ok((CLIENT_SOURCES as readonly string[]).includes(peer), `${host.name} names ${peer}`);
    }
    console.log(`# raw clients per server: ${hosts.map((host) => `${host.name} ${raw.filter((each) => each.server === host).length}`).join(', ')}`);
  });

  void test('built clients with --reconnect stream through HAProxy with exact statistics', async () => {
    for (let i = 0; i < 2 * HOSTS; i++) {
      const proc = spawnClient(['127.0.0.1', String(frontendPort), 'json', '--reconnect', '--reconnect-delay', '0.05-0.2']);
      const client: Built = { proc, servers: [] };
      built.push(client);
      await connection(client, 0);
    }
    await Promise.all(built.map(exactBuilt));
    for (const host of hosts) assert.ok(built.some((client) => client.servers[0] === host), `${host.name} got a built client`);
  });

  void test('SIGTERM: the shutdown frame, HAProxy marks the server down as its shutdown begins, its clients come back on the others', async () => {
    const victim = hosts[1] as RunningHost;
    const states = await serverStates(socket);
    for (const host of hosts) assert.equal(states.get(host.name), 2, `${host.name} up before`);
    const sent = performance.now();
    victim.proc.kill('SIGTERM');
    await victim.proc.waitForLine(/"event":"shutdown"/, { timeoutMs: WAIT_MS });
    const shutdownAt = performance.now();
    await haproxy.waitForLine(new RegExp(`Server servers/${victim.name} is DOWN`), { timeoutMs: WAIT_MS });
    const downAt = performance.now();
    // The listener closes as the shutdown begins, so the next checks fail: a few check intervals
    // (100 ms here), far less than the shutdown timeout a check of the process's exit could take.
    assert.ok(downAt - shutdownAt < 2_000, `DOWN ${(downAt - shutdownAt).toFixed(0)} ms after the shutdown began`);
    const now = await serverStates(socket);
    assert.equal(now.get(victim.name), 0);
    for (const host of survivors(victim)) assert.equal(now.get(host.name), 2, `${host.name} still up`);
    console.log(`# SIGTERM to ${victim.name}: its shutdown began after ${(shutdownAt - sent).toFixed(0)} ms, HAProxy marked it DOWN ${(downAt - shutdownAt).toFixed(0)} ms later`);

    for (const { client, server } of raw) {
      if (server !== victim) continue;
      const frame = await client.nextFrame(MessageType.shutdown, WAIT_MS);
      assert.match(frame.content.toString(), /SIGTERM/);
      // The server's FIN comes through HAProxy after the frame.
      await client.waitClosed(WAIT_MS);
    }
    const moved = built.filter((client) => client.servers[0] === victim);
    assert.ok(moved.length > 0);
    for (const client of moved) {
      await client.proc.waitForLine(/"event":"shutdown","reason":"server shutting down \(SIGTERM\)"/, { fromStart: true, timeoutMs: WAIT_MS });
      const next = await connection(client, 1);
      assert.notEqual(next, victim, `${client.proc.name} came back on another server`);
    }
    assert.deepEqual(await victim.proc.waitForExit(WAIT_MS), { code: 0, signal: null });

    // Nobody else noticed: the other clients kept their one connection, and every count is exact.
    for (const client of built) if (client.servers[0] !== victim) assert.equal(events(client.proc, /"event":"connected"/).length, 1);
    await Promise.all(built.map(exactBuilt));
    await Promise.all(raw.filter(({ server }) => server !== victim).map(({ client }) => exactRaw(client)));
  });

  void test('SIGKILL costs only that server its own clients; they come back on the last one', async () => {
    const gone = hosts[1] as RunningHost;
    const victim = hosts[2] as RunningHost;
    const last = hosts[0] as RunningHost;
    const current = (client: Built): RunningHost | undefined => client.servers.at(-1);
    const onVictim = built.filter((client) => current(client) === victim);
    const rawOnVictim = raw.filter(({ server }) => server === victim);
    assert.ok(onVictim.length + rawOnVictim.length > 0);
    const connections = new Map(built.map((client) => [client, client.servers.length]));
    victim.proc.kill('SIGKILL');
    assert.deepEqual(await victim.proc.waitForExit(WAIT_MS), { code: null, signal: 'SIGKILL' });
    for (const { client } of rawOnVictim) {
      await client.waitClosed(WAIT_MS);
      // Killed, it could say nothing: the connection just ends.
      assert.equal(client.history.some((frame) => frame.type === MessageType.shutdown), false);
    }
    for (const client of onVictim) {
      assert.equal(await connection(client, connections.get(client) ?? 0), last);
    }
    await haproxy.waitForLine(new RegExp(`Server servers/${victim.name} is DOWN`), { timeoutMs: WAIT_MS });
    const states = await serverStates(socket);
    assert.deepEqual([gone, victim, last].map((host) => states.get(host.name)), [0, 0, 2]);

    for (const client of built) if (!onVictim.includes(client)) assert.equal(client.servers.length, connections.get(client), `${client.proc.name} kept its connection`);
    for (const { client, server } of raw) if (server === last) assert.equal(client.isClosed, false);
    await Promise.all(built.map(exactBuilt));
    await Promise.all(raw.filter(({ server }) => server === last).map(({ client }) => exactRaw(client)));
    console.log(`# statistics answers checked exact: ${answersChecked}; clients moved by SIGKILL: ${onVictim.length} built, ${rawOnVictim.length} raw lost`);

    // Every 100 ms a health check, each ended by HAProxy with a reset: none was refused or counted as a client.
    for (const host of hosts) {
      assert.deepEqual(events(host.proc, /"event":"rejected"/), [], `${host.name} refused nothing`);
      const clients = raw.filter(({ server }) => server === host).length + built.reduce((sum, client) => sum + client.servers.filter((server) => server === host).length, 0);
      assert.equal(events(host.proc, /"event":"accepted"/).length, clients, `${host.name} accepted only clients`);
    }

    for (const client of built) client.proc.write('q');
    for (const client of built) assert.deepEqual(await client.proc.waitForExit(WAIT_MS), { code: 0, signal: null });
  });
});
