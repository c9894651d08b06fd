/**
 * Options of the benchmark and measurement scripts, parsed as the CLI parses a command's: node's
 * strict parser, `-h`/`--help` prints the script's header comment (what it measures and its
 * usage) and exits 0, a mistake is one line that names the script and points at `--help`, exit 2.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describeParseError } from '../src/cli/args.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * `script`: its npm script's name ('bench:tsne'), or its file's name for one run with tsx;
 * `scriptUrl`: its `import.meta.url`, for `--help`.
 */
export function parseScriptArgs<T extends Options>(script: string, scriptUrl: string, options: T) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(headerComment(fileURLToPath(scriptUrl)));
    process.exit(0);
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (error) {
    const help = script.startsWith('bench:') ? `npm run ${script} -- --help` : `tsx scripts/${script}.ts --help`;
    console.error(`${script}: ${describeParseError(error as NodeJS.ErrnoException)}; see '${help}'`);
    process.exit(2);
  }
}

/** The file's first block comment, without its comment marks. */
function headerComment(path: string): string {
  const block = /\/\*\*([\s\S]*?)\*\//.exec(readFileSync(path, 'utf8'))?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/^\s*\* ?/, ''))
    .join('\n')
    .trim();
}
