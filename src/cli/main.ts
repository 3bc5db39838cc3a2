#!/usr/bin/env node
// `npx c2s-enricher <command>`: the operators' command line (see `npx c2s-enricher --help`).
import { COMMANDS } from './commands/index.ts';
import type { Output } from './command.ts';
import { runCli } from './run.ts';

const output = (stream: NodeJS.WriteStream): Output => ({
  write: (text) => void stream.write(text),
  isTTY: stream.isTTY === true,
  columns: stream.isTTY && stream.columns > 0 ? stream.columns : undefined,
});

process.exitCode = await runCli(process.argv.slice(2), COMMANDS, {
  stdout: output(process.stdout),
  stderr: output(process.stderr),
  env: process.env,
  cwd: process.cwd(),
});
