#!/usr/bin/env -S node --v8-pool-size=1
// One V8 helper thread, not Node's default four: a collection hands its work to all of them at
// once, and on a small machine those beside the loop's thread take its core, so clients'
// chunks waited out the helpers' time slices as well as the pause (19,000 clients beside
// request flooders: p99 lateness <= 2-3 ms with four, <= 1 ms with one; BENCHMARKS.md). The
// one still marks and sweeps beside the loop. Cluster workers inherit the flag; whoever starts
// this file with `node` passes it too (`npm start` and the systemd unit do).
import { runCli } from '../cli/run-cli.js';
import { serverCommand } from '../cli/server-command.js';
import { tuneHeapForServing } from '../server/heap-tuning.js';

tuneHeapForServing();
await runCli(serverCommand, process.argv.slice(2));
