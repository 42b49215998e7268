#!/usr/bin/env node
import { clientCommand } from '../cli/client-command.js';
import { runCli } from '../cli/run-cli.js';

await runCli(clientCommand, process.argv.slice(2));
