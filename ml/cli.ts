/**
 * The command line of the ml tools and benchmarks: `--help`/`-h` prints the command's usage on stdout, and a bad
 * option becomes one clear line naming it (`parseCommandLine`, `UsageError`, `exitOnError`).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { currencyOption, parseColumnMap } from './dataset';

/** A bad command line: the tools exit with 2 for it (as Python's argparse), 1 for everything else. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Edit distance with transpositions (optimal string alignment), for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The option a mistyped name most likely meant: a prefix of it, or one or two edits away. */
export function nearestOption(name: string, options: readonly string[]): string | undefined {
  const bare = name.replace(/^-+/, '');
  if (bare.length < 2) return undefined;
  return options
    .map((o) => ({ o, d: o.startsWith(bare) ? 0.5 : distance(bare, o) }))
    .filter(({ o, d }) => d <= (o.length >= 5 ? 2 : 1))
    .sort((x, y) => x.d - y.d)[0]?.o;
}

/** node's parseArgs error as one line for this command's user. */
function explain(error: Error & { code?: string }, options: Options, help: string): string {
  const quoted = /'([^']+)'/.exec(error.message)?.[1] ?? '';
  const name = quoted.split(' ')[0]; // "--data <value>" → "--data"
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const near = nearestOption(name, Object.keys(options));
      return `unknown option ${name}${near ? `; did you mean --${near}?` : ''} (${help})`;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /does not take an argument/.test(error.message) ? `${name} takes no value (${help})` : `${name} needs a value (${help})`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${quoted}": every value follows its option, as --data FILE (${help})`;
    default:
      return `${error.message.split('\n')[0]} (${help})`;
  }
}

/**
 * Parses a command line with node's parseArgs (strict, no positionals) plus `--help`/`-h`. With `--help` or `-h`
 * anywhere (before a `--`), it prints `usage` on stdout and returns undefined: the command then stops, exit 0.
 * A bad option throws a UsageError of one line naming it and pointing at `command -- --help`.
 */
export function parseCommandLine<T extends Options>(
  command: string,
  usage: string,
  options: T,
  args: readonly string[] = process.argv.slice(2),
): ReturnType<typeof parseArgs<{ options: T }>>['values'] | undefined {
  const end = args.indexOf('--');
  if ((end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h')) {
    console.log(usage);
    return undefined;
  }
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(explain(error as Error, options, `${command} -- --help lists the options`));
  }
}

/** The end of a command's main(): a one-line error on stderr, exit 2 for a bad command line and 1 otherwise. */
export function exitOnError(name: string): (error: unknown) => never {
  return (error) => {
    console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(error instanceof UsageError ? 2 : 1);
  };
}

/**
 * The data options the commands share, checked before any work: a bad `--map` or `--currency` is a bad command line
 * (a UsageError, exit 2), not an error found after the replay has begun.
 */
export function checkDataOptions(command: string, values: { readonly map?: string; readonly currency?: string }): void {
  try {
    parseColumnMap(values.map);
    currencyOption(values.currency);
  } catch (error) {
    throw new UsageError(`${(error as Error).message} (${command} -- --help lists the options)`);
  }
}
