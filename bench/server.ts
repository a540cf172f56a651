/**
 * The benchmark's server process: the local platform in memory on an ephemeral loopback port, driven by
 * bench/pay.ts over IPC (no test switch in the platform: store counters come from the store adapter).
 */
import { startLocalPlatform } from '../local/platform';
import { FUNCTION_NAMES } from '../contracts/topology';
import { startProfile } from './profile';
import { taskTimer } from './support';

type Message = { type: 'stats' } | { type: 'cpu' } | { type: 'reset' } | { type: 'tasks' } | { type: 'idle' } | { type: 'profile-start' } | { type: 'profile-stop' } | { type: 'close' };

async function main(): Promise<void> {
  if (!process.send) throw new Error('bench/server.ts runs as a child of bench/pay.ts');
  // Each function's invocations timed by step (where an unloaded payment's time goes).
  const timer = taskTimer(FUNCTION_NAMES);
  const platform = await startLocalPlatform({ port: 0, inMemory: true, onError: () => undefined, handlerOverrides: timer.overrides });
  const token = await platform.issuer.signToken({ merchantId: 'm_bench', expiresIn: '1h' });
  process.send({ type: 'ready', url: platform.url, token });
  let stopProfile: Awaited<ReturnType<typeof startProfile>> | undefined;
  process.on('message', (message: Message) => {
    void (async () => {
      if (message.type === 'stats') void platform.store.stats().then((stats) => process.send?.({ type: 'stats', stats }));
      if (message.type === 'cpu') {
        const { user, system } = process.cpuUsage();
        process.send?.({ type: 'cpu', serverMs: (user + system) / 1000, storeMs: await platform.store.cpuMs() });
      }
      if (message.type === 'tasks') process.send?.({ type: 'tasks', tasks: timer.take() });
      if (message.type === 'reset') {
        platform.store.resetStats();
        timer.take();
        process.send?.({ type: 'reset' });
      }
      if (message.type === 'idle') {
        await platform.idle();
        process.send?.({ type: 'idle' });
      }
      if (message.type === 'profile-start') {
        stopProfile = await startProfile();
        process.send?.({ type: 'profile-start' });
      }
      if (message.type === 'profile-stop') {
        const parts = stopProfile ? await stopProfile() : [];
        stopProfile = undefined;
        process.send?.({ type: 'profile-stop', parts });
      }
      if (message.type === 'close') {
        await platform.close(2000);
        process.exit(0);
      }
    })();
  });
  process.on('disconnect', () => {
    void platform.close(500).finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  console.error(`bench server: ${(error as Error).message}`);
  process.exit(1);
});
