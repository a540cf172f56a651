/**
 * The command line of the npm run test:* suites (faults, security, load): options parsed as the ml tools parse
 * theirs (ml/cli.ts: --help, a bad option named in one line, exit 2), and the end of a run: the report printed,
 * exit 1 on any breach.
 */
import type { ChildProcess } from 'node:child_process';
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

/** Rows as aligned columns (the first left-aligned, the rest right-aligned): the suites' report tables. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')).join('\n');
}

/** Waits until the platform at `url` answers /health; fails at `timeoutMs`, or at once when its process `child` exits. */
export async function waitForHealth(url: string, options: { readonly child?: ChildProcess; readonly timeoutMs: number }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  while (Date.now() < deadline) {
    if (options.child && options.child.exitCode !== null) throw new Error(`the platform exited (${options.child.exitCode}) before it was up`);
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the platform at ${url} did not answer /health within ${options.timeoutMs / 1000} s`);
}
