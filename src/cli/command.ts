import type { ParseArgsOptionsConfig } from 'node:util';
import type { Config } from '../config.ts';
import type { Logger } from '../log/logger.ts';

/** The operators' exit codes: tools outside the repository rely on them. */
export const EXIT = { ok: 0, failure: 1, usage: 64 } as const;

/** Where a command writes: stdout or stderr, and whether a person is watching it. */
export interface Output {
  write(text: string): void;
  readonly isTTY: boolean;
  /** The terminal's width; undefined when unknown or not a terminal. */
  readonly columns: number | undefined;
}

export interface CommandContext {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly config: Config;
  /** Logs go to stderr, so stdout ends with the summary line. */
  readonly logger: Logger;
  readonly now: () => Date;
}

/** What parseArgs found for a command: its flags and its positional arguments. */
export interface CommandArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/**
 * One entry of the command table. `parse` checks the arguments before anything is opened (so a
 * usage error never touches the database); `run` does the work and writes its summary line last.
 */
export interface Command<Input = unknown> {
  readonly name: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** The arguments' synopsis, after `c2s-enricher <name>`. */
  readonly synopsis: string;
  /** What the flags mean, shown by `<name> --help`. */
  readonly details?: string;
  readonly options?: ParseArgsOptionsConfig;
  /** Names of the positional arguments, all required. */
  readonly positionals?: readonly string[];
  parse(args: CommandArgs, now: () => Date): Input;
  run(input: Input, context: CommandContext): Promise<void>;
}

/**
 * Infers a command's input from its `parse` and checks its `run` against it; the table then
 * holds commands of different inputs side by side (`run` is a method, compared bivariantly).
 */
export function defineCommand<Input>(command: Command<Input>): Command {
  return command;
}

/** The operator got the command line wrong: exit 64. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The command could not do what was asked, for a reason worth one line: exit 1. */
export class CommandFailure extends Error {
  override readonly name = 'CommandFailure';
}

/** A string flag's value, when given. */
export function text(args: CommandArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A boolean flag. */
export function flag(args: CommandArgs, name: string): boolean {
  return args.values[name] === true;
}

/** A flag whose value must be one of `allowed`. */
export function choice<T extends string>(
  args: CommandArgs,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = text(args, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}
