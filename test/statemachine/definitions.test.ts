/**
 * Static checks on statemachines/*.asl.json: asl-validator accepts them, every Task has a Retry and a Catch,
 * no JSONata or Assign (the local engine gets them wrong), every `${X}` placeholder is declared by the topology
 * and has a local value (test/e2e/renderings.test.ts checks the CDK's), every Task resolves to a local adapter,
 * and every Lambda Task names a step of contracts/steps.ts run by the function its placeholder names, with a
 * Comment that leads to the code in one hop.
 */
import aslValidator from 'asl-validator';
import { eventPattern, EVENTS } from '../../contracts/events';
import { STEPS, type StepName } from '../../contracts/steps';
import { allFunctions, FUNCTION_NAMES, functionPlaceholders, WORKFLOW_NAMES, WORKFLOWS } from '../../contracts/topology';
import { createLocalBus } from '../../local/bus';
import { createLocalDlq } from '../../local/dlq';
import type { Invoker } from '../../local/functions';
import { allStates, LOCAL_DLQ_URL, localSubstitutions, placeholdersOf, readDefinition, substitute, taskAdapters, type WorkflowName } from '../../local/workflows';
import { checkingSteps } from './harness';

const names: WorkflowName[] = [...WORKFLOW_NAMES];

describe.each(names)('%s.asl.json', (name) => {
  const raw = readDefinition(name);

  test('asl-validator accepts it (placeholders substituted, ARNs and paths checked)', () => {
    const result = aslValidator(substitute(raw, localSubstitutions(name)), { checkArn: true, checkPaths: true });
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  test('every Task has a Retry and a Catch (its own, or that of the Parallel it is in)', () => {
    const states = allStates(raw);
    const tasks = states.filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(0);
    const hasCatch = (state: Record<string, unknown>) => Array.isArray(state.Catch) && state.Catch.length > 0;
    // A Task in a branch of a Parallel that catches: the Parallel's Catch handles the branch's failure.
    const caughtByParallel = new Set(
      states
        .filter(([, s]) => s.Type === 'Parallel' && hasCatch(s))
        .flatMap(([, s]) => ((s as { Branches?: Array<{ States: Record<string, unknown> }> }).Branches ?? []).flatMap((b) => Object.keys(b.States))),
    );
    for (const [stateName, state] of tasks) {
      expect({ stateName, retry: Array.isArray(state.Retry) && state.Retry.length > 0 }).toEqual({ stateName, retry: true });
      expect({ stateName, catch: hasCatch(state) || caughtByParallel.has(stateName) }).toEqual({ stateName, catch: true });
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

  test('every placeholder is declared once by the topology and has a local value', () => {
    const placeholders = [...placeholdersOf(raw)];
    expect(placeholders.length).toBeGreaterThan(0);
    const declared = { ...functionPlaceholders(), ...WORKFLOWS[name].resources };
    expect(placeholders.filter((p) => declared[p] === undefined)).toEqual([]);
    expect(placeholders.filter((p) => localSubstitutions(name)[p] === undefined)).toEqual([]);
  });

  test('every Task state maps to a local adapter', () => {
    const functions = Object.fromEntries(FUNCTION_NAMES.map((f) => [f, (async () => null) as Invoker])) as Record<(typeof FUNCTION_NAMES)[number], Invoker>;
    const adapters = taskAdapters(raw, functions, createLocalBus('b'), createLocalDlq(LOCAL_DLQ_URL));
    const tasks = allStates(raw).filter(([, s]) => s.Type === 'Task').map(([n]) => n);
    expect(Object.keys(adapters).sort()).toEqual(tasks.sort());
  });

  test('every Lambda Task names a step its function runs, and its Comment leads to that code in one hop', () => {
    const lambdaTasks = allStates(raw).filter(([, s]) => s.Type === 'Task' && /^\$\{\w+FunctionArn\}$/.test(String(s.Resource)));
    expect(lambdaTasks.length).toBeGreaterThan(0);
    for (const [stateName, state] of lambdaTasks) {
      const fn = functionPlaceholders()[String(state.Resource).slice(2, -1)];
      const step = (state.Parameters as { step?: string } | undefined)?.step as StepName;
      expect({ stateName, step, runs: STEPS[step]?.function }).toEqual({ stateName, step, runs: fn });
      expect({ stateName, comment: String(state.Comment).split(': ')[0] }).toEqual({ stateName, comment: `${allFunctions()[fn].entry} → steps.${step}` });
    }
  });
});

test('the step check fails a payload or a result that breaks contracts/steps.ts', async () => {
  const violations: string[] = [];
  const wrapped = checkingSteps('routing', undefined, violations);
  await wrapped({ step: 'rank', payment: { paymentId: 'nope' }, executionId: 'x' }, async () => ({ ranked: 'none' }));
  expect(violations).toHaveLength(2);
  expect(violations[0]).toMatch(/^rank payload: /);
  expect(violations[1]).toMatch(/^rank result: /);
});

test('the payment workflow puts no event itself: PaymentSucceeded leaves through the outbox (the payments function emits it)', () => {
  const putEvents = allStates(readDefinition('payment')).filter(([, state]) => JSON.stringify(state).includes('events:putEvents'));
  expect(putEvents).toEqual([]);
  expect(WORKFLOWS.payment.emits).toBeUndefined();
  expect(allFunctions().payments.emits).toEqual(['PaymentSucceeded', 'PaymentRefunded']);
});

test('a rule pattern matches its event and no other', () => {
  const bus = createLocalBus('b');
  const seen: unknown[] = [];
  bus.addRule('r', eventPattern('PaymentSucceeded'), (e) => {
    seen.push(e);
  });
  bus.putEvents([{ Source: EVENTS.PaymentSucceeded.source, DetailType: EVENTS.PaymentSucceeded.detailType, Detail: { paymentId: 'pay_1' }, EventBusName: 'b' }]);
  bus.putEvents([{ Source: EVENTS.RoutingOutcomesRecorded.source, DetailType: EVENTS.RoutingOutcomesRecorded.detailType, Detail: { outcomes: [] }, EventBusName: 'b' }]);
  return bus.idle().then(() => expect(seen).toHaveLength(1));
});
