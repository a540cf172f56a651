/**
 * `npm run test:coverage`: line coverage of lambdas/, contracts/, local/ and lib/, handlers included, held at 85%.
 *
 * jest instruments what runs in its own processes; the local platform runs every handler in a worker thread of
 * its own (and the suites start platforms as child processes), which jest cannot see. So the suite runs with
 * NODE_V8_COVERAGE set: Node writes each worker thread's and each child process's coverage, with the source maps
 * of the TypeScript tsx compiled. A line counts as covered when jest saw it run or a thread compiled by tsx did
 * (V8 block counts, mapped to the TypeScript line by c8); the executable lines are jest's (istanbul's statements).
 * Options after `--` go to jest (e.g. `--selectProjects unit`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const FOLDERS = ['lambdas', 'contracts', 'local', 'lib'] as const;
const THRESHOLD = 85;
const PROJECTS = ['unit', 'lib', 'statemachine', 'store', 'e2e', 'browser'];

type IstanbulFile = {
  statementMap: Record<string, { start: { line: number }; end: { line: number } }>;
  s: Record<string, number>;
};

function run(command: string, args: string[], env: NodeJS.ProcessEnv): number {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', env });
  return result.status ?? 1;
}

function main(): number {
  const work = mkdtempSync(join(tmpdir(), 'smartpay-coverage-'));
  const v8 = join(work, 'v8');
  const threads = join(work, 'threads');
  mkdirSync(threads);
  try {
    const jestArgs = process.argv.slice(2);
    const projects = jestArgs.includes('--selectProjects') ? [] : ['--selectProjects', ...PROJECTS];
    console.log(`coverage: jest ${[...projects, ...jestArgs].join(' ')}, worker threads and child processes through V8 (${v8})`);
    const status = run(
      process.execPath,
      [require.resolve('jest/bin/jest'), ...projects, '--coverage', '--coverageReporters=json', `--coverageDirectory=${join(work, 'jest')}`, '--coverageThreshold={}', ...jestArgs],
      { ...process.env, NODE_V8_COVERAGE: v8 },
    );
    if (status !== 0) {
      console.error(`coverage: the tests failed (exit ${status}); no figure`);
      return status;
    }

    // What tsx compiled (its source map is in the file's cache), in any thread of any process: the handlers in the
    // platform's worker threads, the platforms the suites start. jest's own scripts carry no such map and are left
    // to jest's figures.
    let kept = 0;
    for (const name of readdirSync(v8)) {
      const file = JSON.parse(readFileSync(join(v8, name), 'utf8')) as { result: Array<{ url: string }>; 'source-map-cache'?: Record<string, unknown> };
      const maps = file['source-map-cache'] ?? {};
      const result = file.result.filter((entry) => entry.url in maps && FOLDERS.some((f) => entry.url.startsWith(`file://${join(ROOT, f)}/`)));
      if (result.length === 0) continue;
      kept += result.length;
      writeFileSync(join(threads, name), JSON.stringify({ result, 'source-map-cache': maps }));
    }
    const c8 = join(work, 'c8');
    const reportStatus = run(process.execPath, [require.resolve('c8/bin/c8'), 'report', '--temp-directory', threads, '--reports-dir', c8, '--reporter', 'json', '--src', ROOT, '--exclude-after-remap', ...FOLDERS.flatMap((f) => ['--include', `${f}/**`])], process.env);
    if (reportStatus !== 0) return reportStatus;

    const jest = JSON.parse(readFileSync(join(work, 'jest', 'coverage-final.json'), 'utf8')) as Record<string, IstanbulFile>;
    const threadRuns = kept ? (JSON.parse(readFileSync(join(c8, 'coverage-final.json'), 'utf8')) as Record<string, IstanbulFile>) : {};
    const linesRun = (file: IstanbulFile | undefined) => {
      const lines = new Set<number>();
      for (const [id, hits] of Object.entries(file?.s ?? {})) {
        if (hits > 0) for (let line = file!.statementMap[id]!.start.line; line <= file!.statementMap[id]!.end.line; line += 1) lines.add(line);
      }
      return lines;
    };

    const byFolder = new Map<string, { lines: number; covered: number; jestCovered: number }>();
    const files: Array<{ path: string; lines: number; covered: number }> = [];
    for (const [path, file] of Object.entries(jest)) {
      const folder = relative(ROOT, path).split('/')[0]!;
      if (!(FOLDERS as readonly string[]).includes(folder)) continue;
      const executable = new Set(Object.values(file.statementMap).map((s) => s.start.line));
      const byJest = linesRun(file);
      const byThreads = linesRun(threadRuns[path]);
      const covered = [...executable].filter((line) => byJest.has(line) || byThreads.has(line)).length;
      const jestCovered = [...executable].filter((line) => byJest.has(line)).length;
      const totals = byFolder.get(folder) ?? { lines: 0, covered: 0, jestCovered: 0 };
      totals.lines += executable.size;
      totals.covered += covered;
      totals.jestCovered += jestCovered;
      byFolder.set(folder, totals);
      files.push({ path: relative(ROOT, path), lines: executable.size, covered });
    }
    const all = [...byFolder.values()].reduce((a, b) => ({ lines: a.lines + b.lines, covered: a.covered + b.covered, jestCovered: a.jestCovered + b.jestCovered }), { lines: 0, covered: 0, jestCovered: 0 });
    const pct = (covered: number, lines: number) => (lines ? (100 * covered) / lines : 100);
    console.log('\nLINE COVERAGE (jest in its processes, V8 in the platform\'s worker threads and child processes)');
    for (const folder of FOLDERS) {
      const t = byFolder.get(folder);
      if (t) console.log(`  ${folder.padEnd(10)} ${pct(t.covered, t.lines).toFixed(2).padStart(6)}%  (${t.covered}/${t.lines} lines; jest alone ${pct(t.jestCovered, t.lines).toFixed(2)}%)`);
    }
    const total = pct(all.covered, all.lines);
    console.log(`  ${'all'.padEnd(10)} ${total.toFixed(2).padStart(6)}%  (${all.covered}/${all.lines} lines; jest alone ${pct(all.jestCovered, all.lines).toFixed(2)}%)`);
    console.log('\nleast covered files:');
    for (const f of files.filter((f) => f.lines >= 20).sort((a, b) => a.covered / a.lines - b.covered / b.lines).slice(0, 10)) {
      console.log(`  ${pct(f.covered, f.lines).toFixed(1).padStart(5)}%  ${f.path} (${f.covered}/${f.lines})`);
    }
    if (total < THRESHOLD) {
      console.error(`\ncoverage: ${total.toFixed(2)}% of lines, under the ${THRESHOLD}% floor`);
      return 1;
    }
    console.log(`\ncoverage: ${total.toFixed(2)}% of lines (floor ${THRESHOLD}%)`);
    return 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

process.exit(main());
