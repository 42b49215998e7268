#!/usr/bin/env node
import { runCli } from '../cli/run-cli.js';
import { serverCommand } from '../cli/server-command.js';

await runCli(serverCommand, process.argv.slice(2));
