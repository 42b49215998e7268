#!/usr/bin/env node
import { runCli } from '../cli/run-cli.js';
import { serverCommand } from '../cli/server-command.js';
import { tuneHeapForServing } from '../server/heap-tuning.js';

tuneHeapForServing();
await runCli(serverCommand, process.argv.slice(2));
