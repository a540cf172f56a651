/**
 * `npm start`'s banner as a newcomer follows it: with another data folder, the token command it prints signs with
 * that folder's issuer keys (a token from the default folder's would be refused), and the restart line names it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'smartpay banner '));
const otherDir = mkdtempSync(join(tmpdir(), 'smartpay-other-'));
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  }
  for (const folder of [dir, otherDir]) rmSync(folder, { recursive: true, force: true });
});

test('with --data-dir, the printed token command and curl work against this run, and the restart line keeps the folder', async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts', '--port', '0', '--solana-port', '0', '--data-dir', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let banner = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner in 60 s: ${banner}`)), 60_000);
    child!.stdout!.on('data', (chunk: Buffer) => {
      banner += chunk.toString();
      if (banner.includes('Stop: Ctrl-C')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child!.once('exit', (code) => reject(new Error(`npm start exited (${code}): ${banner}`)));
  });
  const url = /listening on (http:\/\/\S+)/.exec(banner)![1]!;
  const quoted = `'${dir}'`;
  expect(banner).toContain(`npm run token -- --merchant m_123 --data-dir ${quoted}`);
  expect(banner).toContain(`Bearer $(npm run -s token -- --merchant m_123 --data-dir ${quoted})`);
  // Every option of this run, a port of 0 as the one it got: the Solana port too (a copy would otherwise take 8899).
  const solanaPort = /JSON-RPC at http:\/\/127\.0\.0\.1:(\d+)/.exec(banner)![1]!;
  expect(banner).toMatch(new RegExp(`this run: npm start -- --port \\d+ --data-dir ${quoted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} --solana-port ${solanaPort}\\)`));
  // The token command as printed (npm run token runs bin/token.ts).
  const token = execFileSync(process.execPath, ['--import', 'tsx', 'bin/token.ts', '--merchant', 'm_123', '--data-dir', dir], { cwd: ROOT, encoding: 'utf8' }).trim();
  const answer = await fetch(`${url}/payments?limit=1`, { headers: { authorization: `Bearer ${token}` } });
  expect(answer.status).toBe(200);
  // A token of another folder's keys is not this run's.
  const other = execFileSync(process.execPath, ['--import', 'tsx', 'bin/token.ts', '--merchant', 'm_123', '--data-dir', otherDir], { cwd: ROOT, encoding: 'utf8' }).trim();
  expect((await fetch(`${url}/payments?limit=1`, { headers: { authorization: `Bearer ${other}` } })).status).toBe(401);
}, 120_000);

test('a fraud model folder that cannot load stops the start, naming the file (not a 500 on every /fraud and /pay)', async () => {
  const run = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts', '--port', '0', '--solana-port', '0', '--in-memory'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FRAUD_MODEL_DIR: join(otherDir, 'no-model') },
  });
  let output = '';
  run.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  run.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => run.once('exit', resolve));
  expect(code).toBe(1);
  expect(output).toContain(`cannot start the local platform:\n  lambdas/fraud/handler.ts ${join(otherDir, 'no-model', 'manifest.json')}: no such file`);
  expect(output).not.toContain('http://');
}, 90_000);
