import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../errors.ts';
import { stdio, type CommandOutput } from './output.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** `-h` / `--help`, which every subcommand answers. */
const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

/**
 * Parses one subcommand's arguments with node's own parser, turning its errors into one line
 * that names the command and points at `--help`.
 */
export function parseCommandArgs<T extends Options>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UserError(
      `${command}: ${describeParseError(error as NodeJS.ErrnoException)}; see 'embedding-timelapse ${command} --help'`,
    );
  }
}

/** node's parser explains some mistakes over several lines; the CLI prints one. */
export function describeParseError(error: NodeJS.ErrnoException): string {
  const option = /'(-[^']*)'/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `Unknown option '${option}'`;
  // A value that starts with a dash, e.g. `--seed -1`.
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option && /ambiguous/.test(error.message)) {
    return `option '${option}' needs a value; to give one that starts with '-', write ${option}=-…`;
  }
  return error.message.replace(/\s*\n\s*/g, ' ').replace(/\.$/, '');
}

export interface CommandSpec<T extends Options> {
  /** The text `--help` prints. */
  help: string;
  /** The command's own options; `-h, --help` is added. */
  options: T;
  /** What the one positional argument is (e.g. 'log directory'); without it, the command takes none. */
  positional?: string;
  /**
   * The options (or 'positional') that may name object storage (`s3://…`). Any other option
   * given an s3:// address is refused, rather than taken for a local folder named `s3:`.
   */
  objectStorage?: readonly string[];
}

/** One line for an s3:// address where the command only handles local paths (issue #21). */
function refuseObjectStorage(
  command: string,
  values: Record<string, unknown>,
  positionals: string[],
  allowed: readonly string[],
): void {
  const given: [string, unknown][] = [
    ...Object.entries(values),
    ...positionals.map((p): [string, unknown] => ['positional', p]),
  ];
  for (const [name, value] of given) {
    if (allowed.includes(name) || typeof value !== 'string' || !/^s3:\/\//i.test(value)) continue;
    const where = name === 'positional' ? value : `--${name} ${value}`;
    throw new UserError(
      `${command}: ${where}: '${command}' cannot use object storage yet for this option (it takes a local path); ` +
        'give a local directory',
    );
  }
}

/**
 * Everything a subcommand does before its real work: parse its options (plus `--help`), print
 * the help text when asked, and check the positional arguments. Returns null when the help text
 * was printed (the command then exits 0); otherwise the option values and the positionals
 * (exactly one when `spec.positional` is set, none otherwise).
 */
export function parseCommand<T extends Options>(
  command: string,
  argv: string[],
  spec: CommandSpec<T>,
  output: CommandOutput = stdio,
) {
  const { values, positionals } = parseCommandArgs(command, argv, { ...spec.options, ...HELP_OPTION });
  if ((values as { help?: boolean }).help) {
    output.line(spec.help);
    return null;
  }
  refuseObjectStorage(command, values, positionals, spec.objectStorage ?? []);
  const seeHelp = `see 'embedding-timelapse ${command} --help'`;
  if (spec.positional === undefined && positionals.length > 0) {
    throw new UserError(`${command}: unexpected argument '${positionals[0]}'; ${seeHelp}`);
  }
  if (spec.positional !== undefined && positionals.length !== 1) {
    throw new UserError(`${command}: expected one ${spec.positional}, got ${positionals.length}; ${seeHelp}`);
  }
  return { values, positionals };
}

/**
 * Reads an integer option, with a clear message when it is not one. Decimal digits only:
 * `Number()` would also take `1e3`, `0x10`, `0b1` and ` 12 `, which nobody means as a port or seed.
 */
export function intOption(command: string, name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const parsed = /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min) {
    throw new UserError(`${command}: --${name} must be an integer >= ${min}, got '${value}'`);
  }
  return parsed;
}

/** Like `intOption`, for an option whose absence means "let the callee choose" (undefined). */
export function optionalIntOption(
  command: string,
  name: string,
  value: string | undefined,
  min = 0,
): number | undefined {
  return value === undefined ? undefined : intOption(command, name, value, min, min);
}

/** Reads a number option, with a clear message when it is not one. */
export function numberOption(command: string, name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new UserError(`${command}: --${name} must be a number, got '${value}'`);
  return parsed;
}
