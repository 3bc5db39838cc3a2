import { parseArgs } from 'node:util';
import { AdminError, AdminInputError } from '../admin/errors.ts';
import { environmentWithDotenv, loadConfig, type Env } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { createLogger } from '../log/logger.ts';
import { scrubText } from '../log/mask.ts';
import {
  CommandFailure,
  EXIT,
  UsageError,
  type Command,
  type CommandArgs,
  type CommandContext,
  type Output,
} from './command.ts';

export const PROGRAM = 'c2s-enricher';

export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: Env;
  /** Where `.env` is read from. */
  readonly cwd: string;
  readonly now?: () => Date;
}

/**
 * Runs one command line against the command table and answers the exit code: 0 done, 1 failed
 * (one line on stderr says why), 64 the command line was wrong.
 */
export async function runCli(
  argv: readonly string[],
  commands: readonly Command[],
  io: CliIo,
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.stderr.write(programUsage(commands));
    return EXIT.usage;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const about = commands.find((command) => command.name === rest[0]);
    io.stdout.write(about ? commandUsage(about) : programUsage(commands));
    return EXIT.ok;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    io.stderr.write(`${PROGRAM}: unknown command '${name}' (see ${PROGRAM} --help)\n`);
    return EXIT.usage;
  }
  const now = io.now ?? (() => new Date());
  let input: unknown;
  try {
    const args = parseCommandArgs(command, rest);
    if (args.values.help === true) {
      io.stdout.write(commandUsage(command));
      return EXIT.ok;
    }
    input = command.parse(args, now);
  } catch (error) {
    return fail(io, command, error);
  }
  try {
    const config = loadConfig(environmentWithDotenv(io.env, io.cwd));
    // Logs on stderr (synchronously, the process is short-lived): stdout ends with the summary.
    const logger = createLogger('warn', { write: (line: string) => io.stderr.write(line) });
    const context: CommandContext = { stdout: io.stdout, stderr: io.stderr, config, logger, now };
    await command.run(input, context);
    return EXIT.ok;
  } catch (error) {
    return fail(io, command, error);
  }
}

function parseCommandArgs(command: Command, args: readonly string[]): CommandArgs {
  let parsed: CommandArgs;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    // node:util's refusals (unknown option, missing value) carry codes ERR_PARSE_ARGS_*.
    const code = String((error as { code?: unknown }).code);
    if (!code.startsWith('ERR_PARSE_ARGS')) throw error;
    const message = (error as Error).message;
    // Node's text goes on about positionals after `--`; the option's name is what helps.
    const option = /'([^']+)'/.exec(message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option)
      throw new UsageError(`unknown option '${option}'`);
    throw new UsageError(message.split('\n')[0]);
  }
  if (parsed.values.help === true) return parsed;
  const expected = command.positionals ?? [];
  if (parsed.positionals.length < expected.length)
    throw new UsageError(`missing <${expected[parsed.positionals.length]}>`);
  if (parsed.positionals.length > expected.length)
    throw new UsageError(`unexpected argument '${parsed.positionals[expected.length]}'`);
  return parsed;
}

/** One line on stderr, and the exit code the kind of failure calls for. */
function fail(io: CliIo, command: Command, error: unknown): number {
  const usage = error instanceof UsageError || error instanceof AdminInputError;
  const suffix = usage ? ` (see ${PROGRAM} ${command.name} --help)` : '';
  io.stderr.write(`${PROGRAM} ${command.name}: ${reasonOf(error)}${suffix}\n`);
  return usage ? EXIT.usage : EXIT.failure;
}

function reasonOf(error: unknown): string {
  if (error instanceof ConfigError) return `invalid configuration: ${error.problems.join('; ')}`;
  // Our own messages are written for operators; anything else may quote data: scrubbed.
  if (error instanceof UsageError || error instanceof CommandFailure || error instanceof AdminError)
    return error.message;
  const message = error instanceof Error ? error.message : String(error);
  return scrubText(message.replace(/\s*\n\s*/g, ' ')) || 'unexpected failure';
}

export function programUsage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  return [
    `usage: ${PROGRAM} <command> [options]`,
    '',
    'commands:',
    ...commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    `Run \`${PROGRAM} <command> --help\` for a command's options. Exit codes: 0 done, 1 failed, 64 usage error.`,
    '',
  ].join('\n');
}

export function commandUsage(command: Command): string {
  return [
    `usage: ${PROGRAM} ${command.name}${command.synopsis ? ` ${command.synopsis}` : ''}`,
    '',
    command.summary,
    ...(command.details ? ['', command.details] : []),
    '',
  ].join('\n');
}
