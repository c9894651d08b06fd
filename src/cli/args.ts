import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses one subcommand's arguments with node's own parser, turning its errors into one line
 * that names the command and points at `--help`.
 */
export function parseCommandArgs<T extends Options>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UserError(`${command}: ${(error as Error).message}; see 'embedding-timelapse ${command} --help'`);
  }
}

/** Reads an integer option, with a clear message when it is not one. */
export function intOption(command: string, name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) {
    throw new UserError(`${command}: --${name} must be an integer >= ${min}, got '${value}'`);
  }
  return parsed;
}

/** Reads a number option, with a clear message when it is not one. */
export function numberOption(command: string, name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new UserError(`${command}: --${name} must be a number, got '${value}'`);
  return parsed;
}
