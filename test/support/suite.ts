/**
 * The command line of the npm run test:* suites (faults, security, load): options parsed as the ml tools parse
 * theirs (ml/cli.ts: --help, a bad option named in one line, exit 2), and the end of a run: the report printed,
 * exit 1 on any breach.
 */
import { exitOnError, parseCommandLine, UsageError } from '../../ml/cli';

/** parseCommandLine (--help: usage, then undefined), a bad option ending the command with one line and exit 2. */
export function parseSuiteCommandLine<T extends Parameters<typeof parseCommandLine>[2]>(command: string, usage: string, options: T): ReturnType<typeof parseCommandLine<T>> {
  try {
    return parseCommandLine(command, usage, options);
  } catch (error) {
    return exitOnError(command)(error);
  }
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** A number option: a positive number (or 0 where `zero` allows); otherwise the command stops, exit 2, naming it. */
export function numberOption(command: string, name: string, value: string | undefined, zero = false): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0 || (number === 0 && !zero)) {
    exitOnError(command)(new UsageError(`--${name} must be ${zero ? 'a number, 0 or more' : 'a positive number'}, got ${value} (${command} -- --help lists the options)`));
  }
  return number;
}

/** Prints the suite's report when the run ends; exit 1 on a breach, 1 on a failure to run (its message on stderr). */
export function finishSuite(name: string, run: Promise<{ readonly text: string; readonly breaches: readonly unknown[] }>): void {
  run.then((report) => {
    console.log(`\n${report.text}`);
    process.exit(report.breaches.length ? 1 : 0);
  }, exitOnError(name));
}
