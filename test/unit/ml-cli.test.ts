/**
 * The ml command-line tools' shared plumbing (ml/progress.ts): the progress line with its ETA, when progress is
 * logged, and the command line (--help, one-line errors for bad options); then each tool's usage text against
 * its options, and the wiring of --help and a bad option through the real commands (exit codes, stdout/stderr).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { OPTIONS as BENCH_OPTIONS, USAGE as BENCH_USAGE } from '../../bench/fraud';
import { OPTIONS as PROTOCOL_OPTIONS, USAGE as PROTOCOL_USAGE } from '../../bench/fraud-protocol';
import { OPTIONS as FEATURES_OPTIONS, USAGE as FEATURES_USAGE } from '../../ml/features';
import { checkDataOptions, nearestOption, parseCommandLine, UsageError } from '../../ml/cli';
import { formatDuration, formatProgress, progressLogger } from '../../ml/progress';
import { OPTIONS as SCORE_OPTIONS, USAGE as SCORE_USAGE } from '../../ml/score';
import { OPTIONS as TRAIN_OPTIONS, USAGE as TRAIN_USAGE } from '../../ml/train';

const ROOT = join(__dirname, '..', '..');

describe('formatProgress', () => {
  it('gives rows done of the total, the share, the rate and the ETA', () => {
    // 300,000 rows in 14.02 s: 21,398 rows/s (three significant digits), 277,328 left: 12.96 s, rounded up.
    expect(formatProgress(300_000, 577_328, 14.02)).toBe('  300,000 / 577,328 rows (52%), 21,400 rows/s, ETA 13 s');
    expect(formatProgress(300_000, 577_328, 14.02, 'history')).toBe('  history: 300,000 / 577,328 rows (52%), 21,400 rows/s, ETA 13 s');
  });

  it('has no rate or ETA before any row or time', () => {
    expect(formatProgress(0, 577_328, 3)).toBe('  0 / 577,328 rows (0%)');
    expect(formatProgress(10, 577_328, 0)).toBe('  10 / 577,328 rows (0%)');
  });

  it('never reads 100% before the end, and says ETA 0 s at the end', () => {
    expect(formatProgress(999_999, 1_000_000, 10)).toBe('  999,999 / 1,000,000 rows (99%), 100,000 rows/s, ETA 1 s');
    expect(formatProgress(1_000_000, 1_000_000, 10)).toBe('  1,000,000 / 1,000,000 rows (100%), 100,000 rows/s, ETA 0 s');
  });

  it('writes slow rates with their fraction and long ETAs in minutes or hours', () => {
    expect(formatProgress(1, 100, 4)).toBe('  1 / 100 rows (1%), 0.25 rows/s, ETA 6 min 36 s');
    expect(formatProgress(1_234, 10_000_000, 1)).toBe('  1,234 / 10,000,000 rows (0%), 1,230 rows/s, ETA 2 h 16 min');
    expect(formatDuration(58.2)).toBe('59 s');
    expect(formatDuration(59.2)).toBe('1 min 00 s');
    expect(formatDuration(60)).toBe('1 min 00 s');
    expect(formatDuration(3599)).toBe('59 min 59 s');
    expect(formatDuration(3600)).toBe('1 h 00 min');
    expect(formatDuration(-3)).toBe('0 s');
  });
});

describe('progressLogger', () => {
  it('logs every 5 s or every 100,000 rows, whichever comes first, and not at the end', () => {
    let clock = 1_000;
    const lines: string[] = [];
    const progress = progressLogger(250_000, (line) => lines.push(line), { now: () => clock });
    for (let done = 1; done <= 50_000; done++) progress(done); // 0 s: nothing yet
    expect(lines).toEqual([]);
    clock += 5_000;
    progress(50_001); // 5 s since the start
    expect(lines).toEqual(['  50,001 / 250,000 rows (20%), 10,000 rows/s, ETA 20 s']);
    progress(60_000); // only 0 s since that line
    clock += 1_000;
    progress(150_001); // 100,000 rows since it
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('  150,001 / 250,000 rows (60%), 25,000 rows/s, ETA 4 s');
    clock += 60_000;
    progress(250_000); // done: the caller says so
    expect(lines).toHaveLength(2);
  });

  it('names its phase', () => {
    let clock = 0;
    const lines: string[] = [];
    const progress = progressLogger(10, (line) => lines.push(line), { now: () => clock, phase: 'scoring', everyRows: 4 });
    for (let done = 1; done <= 10; done++) {
      clock += 250;
      progress(done);
    }
    expect(lines).toEqual(['  scoring: 4 / 10 rows (40%), 4 rows/s, ETA 2 s', '  scoring: 8 / 10 rows (80%), 4 rows/s, ETA 1 s']);
  });
});

describe('parseCommandLine', () => {
  const usage = 'usage: npm run thing -- --data CSV [--quiet]';
  const options = { data: { type: 'string' }, model: { type: 'string' }, quiet: { type: 'boolean', default: false } } as const;
  const parse = (...args: string[]) => parseCommandLine('npm run thing', usage, options, args);
  const error = (...args: string[]) => {
    try {
      parse(...args);
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      return (e as Error).message;
    }
    throw new Error('no error');
  };
  let printed: jest.SpyInstance;
  beforeEach(() => {
    printed = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => printed.mockRestore());

  it('returns the values', () => {
    expect(parse('--data', 'x.csv', '--quiet')).toEqual({ data: 'x.csv', quiet: true });
    expect(printed).not.toHaveBeenCalled();
  });

  it('prints the usage on stdout for --help or -h, wherever they are, and returns nothing', () => {
    expect(parse('--help')).toBeUndefined();
    expect(parse('--data', 'x', '-h')).toBeUndefined();
    expect(parse('--bogus', '--help')).toBeUndefined(); // help wins over a bad option
    expect(printed).toHaveBeenCalledTimes(3);
    expect(printed).toHaveBeenCalledWith(usage);
  });

  it('turns parseArgs errors into one line naming the option and pointing at --help', () => {
    expect(error('--bogus')).toBe('unknown option --bogus (npm run thing -- --help lists the options)');
    expect(error('--mdoel', 'x')).toBe('unknown option --mdoel; did you mean --model? (npm run thing -- --help lists the options)');
    expect(error('-x')).toBe('unknown option -x (npm run thing -- --help lists the options)');
    expect(error('--data')).toBe('--data needs a value (npm run thing -- --help lists the options)');
    expect(error('--quiet=yes')).toBe('--quiet takes no value (npm run thing -- --help lists the options)');
    expect(error('x.csv')).toBe('unexpected argument "x.csv": every value follows its option, as --data FILE (npm run thing -- --help lists the options)');
    for (const args of [['--bogus'], ['--data'], ['x.csv']]) expect(error(...args)).not.toContain('\n');
  });

  it('suggests an option only when it is close', () => {
    expect(nearestOption('--qiuet', ['data', 'quiet'])).toBe('quiet');
    expect(nearestOption('--feedback-delay', ['feedback-delay-days', 'data'])).toBe('feedback-delay-days');
    expect(nearestOption('--out', ['data', 'model'])).toBeUndefined();
    expect(nearestOption('--bogus', ['data', 'model', 'quiet'])).toBeUndefined();
  });
});

describe.each([
  ['npm run features', 'ml/features.ts', FEATURES_USAGE, FEATURES_OPTIONS],
  ['npm run score', 'ml/score.ts', SCORE_USAGE, SCORE_OPTIONS],
  ['npm run bench:fraud', 'bench/fraud.ts', BENCH_USAGE, BENCH_OPTIONS],
  ['npm run train', 'ml/train.ts', TRAIN_USAGE, TRAIN_OPTIONS],
  ['npm run bench:fraud-protocol', 'bench/fraud-protocol.ts', PROTOCOL_USAGE, PROTOCOL_OPTIONS],
] as const)('%s', (command, file, usage, options) => {
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, file), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

  it('documents every option, its default and --help in its usage', () => {
    expect(usage.startsWith(`usage: ${command} -- `)).toBe(true);
    for (const [name, option] of Object.entries(options) as Array<[string, { type: string; default?: unknown }]>) {
      const line = usage.split('\n').findIndex((l) => l.startsWith(`  --${name} `));
      expect({ name, documented: line >= 0 }).toEqual({ name, documented: true });
      const text = usage.split('\n').slice(line, line + 2).join(' ');
      if (option.type === 'string' && option.default !== undefined) expect(text).toContain(`default ${String(option.default)}`);
    }
    expect(usage).toMatch(/^ {2}--help, -h +this text$/m);
  });

  it('prints the usage on stdout with --help and exits 0; a bad option is one line on stderr, exit 2', () => {
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(`${usage}\n`);
    expect(help.stderr).toBe('');
    const bad = run('--bogus', 'x');
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe(`${command.replace('npm run ', '')}: unknown option --bogus (${command} -- --help lists the options)\n`);
  });
});

describe('checkDataOptions: a bad data option is a bad command line, found before any work', () => {
  const help = ' (npm run train -- --help lists the options)';
  it.each([
    [{ map: 'foo=Bar' }, `--map: unknown column "foo"; use one of tx_id, timestamp, customer_id, terminal_id, amount, currency, label, device_id, country, merchant_country${help}`],
    [{ map: 'tx_id' }, `--map entries look like canonical=COLUMN, got "tx_id"${help}`],
    [{ currency: 'XYZ' }, `--currency XYZ: not a supported ISO-4217 code${help}`],
  ])('%j', (values, message) => {
    let thrown: unknown;
    try {
      checkDataOptions('npm run train', values);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as Error).message).toBe(message);
  });

  it('passes a good map and currency, in any case', () => {
    expect(() => checkDataOptions('npm run score', { map: 'tx_id=TxnRef,amount=Amt', currency: 'eur' })).not.toThrow();
  });

  it.each([
    ['features', 'ml/features.ts', ['--data', 'x.csv', '--out', 'y.csv', '--currency', 'ZZZ'], 'features: --currency ZZZ: not a supported ISO-4217 code (npm run features -- --help lists the options)\n'],
    ['score', 'ml/score.ts', ['--data', 'x.csv', '--from', '2026-13-01'], 'score: --from "2026-13-01" is not a date: use YYYY-MM-DD or an ISO-8601 time such as 2026-04-13T00:00:00Z (no such day) (npm run score -- --help lists the options)\n'],
    ['train', 'ml/train.ts', ['--data', 'x.csv', '--map', 'tx_id'], 'train: --map entries look like canonical=COLUMN, got "tx_id" (npm run train -- --help lists the options)\n'],
  ])('%s exits 2 with one line on stderr, before reading anything', (_name, file, args, stderr) => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, file), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 2, stdout: '', stderr });
  });
});
