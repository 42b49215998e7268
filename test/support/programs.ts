import { fileURLToPath } from 'node:url';

/**
 * The programs as shipped: the bundles in dist/bin/. Tests and benchmarks run these, never the
 * sources, so they measure what users run (this file runs from dist/test/support/).
 */
export const SERVER_BIN = fileURLToPath(new URL('../../bin/multi-socket-server.js', import.meta.url));
export const CLIENT_BIN = fileURLToPath(new URL('../../bin/multi-socket-client.js', import.meta.url));
