/**
 * Static checks on statemachines/*.asl.json: asl-validator accepts them, every Task has a Retry and a
 * Catch, no JSONata or Assign (the local engine gets them wrong), every `${X}` placeholder has a value in
 * the local map and in the CDK's definitionSubstitutions (read from lib/workflows.ts as text, so no synth
 * is needed: a deliberately simple parse, and it fails loudly if that file changes shape), and every Task
 * resolves to a local adapter.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { createLocalBus } from '../../local/bus';
import { createLocalDlq } from '../../local/dlq';
import { HANDLER_AREAS, type Invoker } from '../../local/handlers';
import {
  allStates,
  LOCAL_DLQ_URL,
  LOCAL_SUBSTITUTIONS,
  placeholdersOf,
  readDefinition,
  substitute,
  taskAdapters,
  WORKFLOWS,
  type WorkflowName,
} from '../../local/workflows';

const names = Object.keys(WORKFLOWS) as WorkflowName[];
const LIB_WORKFLOWS = join(__dirname, '..', '..', 'lib', 'workflows.ts');

/** The keys of the definitionSubstitutions next to `readDefinition(..., '<file>')` in lib/workflows.ts. */
function cdkSubstitutionKeys(file: string): string[] | undefined {
  if (!existsSync(LIB_WORKFLOWS)) return undefined;
  const source = readFileSync(LIB_WORKFLOWS, 'utf8');
  const at = source.indexOf(`'${file}'`);
  if (at < 0) return undefined;
  const block = /definitionSubstitutions:\s*\{([^}]*)\}/.exec(source.slice(at));
  if (!block) return undefined;
  return [...(block[1] as string).matchAll(/(\w+)\s*:/g)].map((m) => m[1] as string);
}

describe.each(names)('%s.asl.json', (name) => {
  const raw = readDefinition(name);

  test('asl-validator accepts it (placeholders substituted, ARNs and paths checked)', () => {
    const result = aslValidator(substitute(raw, LOCAL_SUBSTITUTIONS), { checkArn: true, checkPaths: true });
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  test('every Task has a Retry and a Catch', () => {
    const tasks = allStates(raw).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(0);
    for (const [stateName, state] of tasks) {
      expect({ stateName, retry: Array.isArray(state.Retry) && state.Retry.length > 0 }).toEqual({ stateName, retry: true });
      expect({ stateName, catch: Array.isArray(state.Catch) && state.Catch.length > 0 }).toEqual({ stateName, catch: true });
    }
  });

  test('JSONPath only: no JSONata, no Assign', () => {
    const text = JSON.stringify(raw);
    expect(text).not.toContain('"QueryLanguage":"JSONata"');
    expect(text).not.toContain('"Assign"');
  });

  test('avoids what aws-local-stepfunctions 3.0 gets wrong, so both engines run the file unchanged', () => {
    // ResultPath "$" is written into a field named "$" by the emulator (it is the default anyway), and
    // string-building intrinsics lose every backslash there (a JSON body with a quote would break).
    const text = JSON.stringify(raw);
    expect(text).not.toContain('"ResultPath":"$"');
    expect(text).not.toMatch(/States\.(JsonToString|Format)\(/);
  });

  test('every placeholder has a local value', () => {
    const placeholders = [...placeholdersOf(raw)];
    expect(placeholders.length).toBeGreaterThan(0);
    expect(placeholders.filter((p) => LOCAL_SUBSTITUTIONS[p] === undefined)).toEqual([]);
  });

  test('every placeholder has a CDK definitionSubstitution (lib/workflows.ts)', () => {
    const keys = cdkSubstitutionKeys(WORKFLOWS[name].file);
    expect(keys).toBeDefined();
    expect([...placeholdersOf(raw)].filter((p) => !keys?.includes(p))).toEqual([]);
  });

  test('every Task state maps to a local adapter', () => {
    const handlers = Object.fromEntries(HANDLER_AREAS.map((a) => [a, (async () => null) as Invoker])) as Record<(typeof HANDLER_AREAS)[number], Invoker>;
    const adapters = taskAdapters(raw, handlers, createLocalBus('b'), createLocalDlq(LOCAL_DLQ_URL));
    const tasks = allStates(raw).filter(([, s]) => s.Type === 'Task').map(([n]) => n);
    expect(Object.keys(adapters).sort()).toEqual(tasks.sort());
  });
});

test('the reward trigger pattern matches a PaymentSucceeded event from the payment workflow', () => {
  const pattern = JSON.parse(readFileSync(join(__dirname, '..', '..', 'statemachines', 'reward.trigger.json'), 'utf8'));
  const bus = createLocalBus('b');
  const seen: unknown[] = [];
  bus.addRule('r', pattern, (e) => {
    seen.push(e);
  });
  const emit = allStates(readDefinition('payment')).find(([n]) => n === 'EmitPaymentSucceeded')?.[1] as unknown as { Parameters: { Entries: Array<{ Source: string; DetailType: string }> } };
  const entry = emit.Parameters.Entries[0]!;
  bus.putEvents([{ Source: entry.Source, DetailType: entry.DetailType, Detail: { paymentId: 'pay_1' }, EventBusName: 'b' }]);
  bus.putEvents([{ Source: 'other', DetailType: entry.DetailType, Detail: { paymentId: 'pay_2' }, EventBusName: 'b' }]);
  return bus.idle().then(() => expect(seen).toHaveLength(1));
});
