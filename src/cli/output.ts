/**
 * Where a command prints: its results on standard output, messages for the user on standard
 * error. Commands take one (`run(argv, output = stdio)`), so a test hands in `collectOutput()`
 * instead of replacing `console.log`.
 */
export interface CommandOutput {
  /** One line of the command's result (stdout). */
  line(text: string): void;
  /** One message for the user (stderr). */
  message(text: string): void;
}

export const stdio: CommandOutput = {
  line: (text) => void process.stdout.write(`${text}\n`),
  message: (text) => void process.stderr.write(`${text}\n`),
};

/** An output that keeps what was printed, for tests. */
export function collectOutput(): CommandOutput & { lines: string[]; messages: string[] } {
  const lines: string[] = [];
  const messages: string[] = [];
  return { lines, messages, line: (text) => void lines.push(text), message: (text) => void messages.push(text) };
}
