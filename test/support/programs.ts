import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The programs as shipped: the bundles in dist/bin/. Tests and benchmarks run these, never the
 * sources, so they measure what users run (this file runs from dist/test/support/).
 */
export const SERVER_BIN = fileURLToPath(new URL('../../bin/multi-socket-server.js', import.meta.url));
export const CLIENT_BIN = fileURLToPath(new URL('../../bin/multi-socket-client.js', import.meta.url));

/**
 * The options the server's first line gives Node (`#!/usr/bin/env -S node --flag ...`), which
 * whoever starts it with `node` passes too: then it runs as its bin, `npm start` and the systemd
 * unit run it.
 */
export const SERVER_NODE_FLAGS: readonly string[] = nodeFlagsOf(SERVER_BIN);

/** `node` arguments that start the server as its bin does: its Node options, then the file. */
export const SERVER_ARGV: readonly string[] = [...SERVER_NODE_FLAGS, SERVER_BIN];

/** The options after `node` on a program's first line, if it has any. */
export function nodeFlagsOf(program: string): string[] {
  const [first = ''] = readFileSync(program, 'utf8').split('\n', 1);
  const match = /^#!\/usr\/bin\/env(?: -S)? node((?: --\S+)*)$/.exec(first);
  if (match === null) throw new Error(`${program}: its first line is not a node shebang: ${first}`);
  return (match[1] ?? '').split(' ').filter((flag) => flag !== '');
}
