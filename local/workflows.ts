/**
 * The local workflow engine: aws-local-stepfunctions running the ONE definition of each workflow
 * (`statemachines/*.asl.json`). Placeholders get local values, every Task state is bound by name to its
 * local adapter (the handler its `${XFunctionArn}` names, the bus for `events:putEvents`, the DLQ for
 * `sqs:sendMessage`), and each machine is built once and run many times.
 */
import './polyfills';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import type { LocalBus, PutEventsEntry } from './bus';
import type { LocalDlq } from './dlq';
import type { PayEnvelope, StoredResponse } from '../contracts/steps';
import { processingBody } from '../contracts/api';
import { functionPlaceholders, PLACEHOLDER, placeholdersOf, resolvePlaceholders, WORKFLOWS as TOPOLOGY_WORKFLOWS, type FunctionName, type WorkflowName } from '../contracts/topology';
import { LOCAL_ACCOUNT, LOCAL_EVENT_BUS, LOCAL_PREFIX, LOCAL_REGION } from './env';
import { functionName, namedError, type Invoker } from './functions';

export const STATEMACHINES_DIR = join(__dirname, '..', 'statemachines');

export const LOCAL_DLQ_URL = `https://sqs.${LOCAL_REGION}.amazonaws.com/${LOCAL_ACCOUNT}/${LOCAL_PREFIX}-reward-dlq`;

export function functionArn(name: FunctionName): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionName(name)}`;
}

/** The local value of every resource a definition names (the CDK renders the cloud's). */
const LOCAL_RESOURCES = { eventBus: LOCAL_EVENT_BUS, rewardDlq: LOCAL_DLQ_URL } as const;

/**
 * The local substitutions of a workflow's placeholders, rendered from the topology like the CDK's: a function
 * placeholder is that function's local ARN, a resource placeholder the local resource. One the topology does
 * not declare is an error.
 */
export function localSubstitutions(workflow: WorkflowName): Record<string, string> {
  return Object.fromEntries(
    resolvePlaceholders(workflow, readDefinition(workflow)).map(([placeholder, target]) => [
      placeholder,
      target.kind === 'function' ? functionArn(target.function) : LOCAL_RESOURCES[target.resource],
    ]),
  );
}

const PUT_EVENTS = 'arn:aws:states:::events:putEvents';
const SEND_MESSAGE = 'arn:aws:states:::sqs:sendMessage';

export type { WorkflowName };

/** The local state machine's name of a workflow. */
export function machineName(workflow: WorkflowName): string {
  return `${LOCAL_PREFIX}-${workflow}`;
}


/** The /pay workflow's output: the HTTP status and the body as a JSON string. */
export type PaymentResponse = StoredResponse;

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly workflow: WorkflowName;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly input: unknown;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  /** Names of the states entered, in order (only when tracing was asked for). */
  readonly states?: string[];
}

export type RetryIntervalOverrides = number | Record<string, number | number[]>;

export interface LocalWorkflowsOptions {
  readonly functions: Readonly<Record<FunctionName, Invoker>>;
  readonly bus: LocalBus;
  readonly dlq: LocalDlq;
  /**
   * Retry waits in ms: a number applies to every state with a Retry. Tests use 0; the platform keeps the
   * definitions' real intervals (the payment Tasks retry after 1 s, the reward Task after 2 s with backoff).
   */
  readonly retryIntervalOverrides?: RetryIntervalOverrides;
  /** Where unexpected execution failures are reported. @default console.error */
  readonly onExecutionFailed?: (record: ExecutionRecord) => void;
}

export interface LocalWorkflows {
  /** Runs the payment workflow synchronously (like StartSyncExecution); a FAILED execution answers 202 processing. */
  runPayment(envelope: PayEnvelope): Promise<PaymentResponse>;
  /** The same, with the execution record (states entered, status) for tests and diagnostics. */
  executePayment(envelope: PayEnvelope): Promise<{ response: PaymentResponse; execution: ExecutionRecord }>;
  /** Starts an asynchronous execution (like StartExecution) and returns its ARN without waiting. */
  start(workflow: WorkflowName, input: unknown): string;
  /**
   * Starts an asynchronous execution and resolves when it has ended, whatever its status (the local bus waits
   * for this before it forgets the event, so a crash mid-execution delivers it again).
   */
  run(workflow: WorkflowName, input: unknown): Promise<ExecutionRecord>;
  /** Finished and running asynchronous executions of a workflow (most recent last, bounded). */
  executions(workflow: WorkflowName): readonly ExecutionRecord[];
  /** Resolves when no execution is running. */
  idle(): Promise<void>;
  /** True while an execution is running. */
  busy(): boolean;
  /** Waits up to `graceMs` for running executions, then aborts the rest. */
  close(graceMs?: number): Promise<void>;
}

type Json = Parameters<StateMachine['run']>[0];
type TaskHandler = (input: Json) => Promise<Json>;
type AslState = Record<string, unknown> & { Type: string };

export function readDefinition(workflow: WorkflowName): StateMachineDefinition {
  return JSON.parse(readFileSync(join(STATEMACHINES_DIR, TOPOLOGY_WORKFLOWS[workflow].file), 'utf8')) as StateMachineDefinition;
}

export { placeholdersOf };

/** Replaces placeholders in every string of the definition; an unknown placeholder is an error. */
export function substitute<T>(definition: T, values: Readonly<Record<string, string>>): T {
  const missing = [...placeholdersOf(definition)].filter((name) => values[name] === undefined);
  if (missing.length) throw new Error(`no substitution for ${missing.map((m) => '${' + m + '}').join(', ')}`);
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return value.replace(PLACEHOLDER, (_, name: string) => values[name] as string);
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    }
    return value;
  };
  return walk(definition) as T;
}

/** Every state of a definition, nested Parallel branches and Map processors included, by name. */
export function allStates(definition: { States: Record<string, unknown> }): Array<[string, AslState]> {
  const result: Array<[string, AslState]> = [];
  const visit = (states: Record<string, unknown>): void => {
    for (const [name, raw] of Object.entries(states)) {
      const state = raw as AslState;
      result.push([name, state]);
      for (const branch of (state.Branches as Array<{ States: Record<string, unknown> }> | undefined) ?? []) visit(branch.States);
      const processor = (state.ItemProcessor ?? state.Iterator) as { States: Record<string, unknown> } | undefined;
      if (processor) visit(processor.States);
    }
  };
  visit(definition.States);
  return result;
}

/** The error a Lambda invocation reports to Step Functions: same name; the cause is Lambda's JSON document. */
export function lambdaError(error: unknown): Error {
  const errorType = (error as Error)?.name || 'Error';
  const errorMessage = (error as Error)?.message ?? String(error);
  const shaped = new Error(JSON.stringify({ errorType, errorMessage }));
  shaped.name = errorType;
  return shaped;
}

/** Binds each Task state of a raw (unsubstituted) definition to its local adapter. */
export function taskAdapters(
  raw: StateMachineDefinition,
  functions: Readonly<Record<FunctionName, Invoker>>,
  bus: LocalBus,
  dlq: LocalDlq,
): Record<string, TaskHandler> {
  const adapters: Record<string, TaskHandler> = {};
  for (const [name, state] of allStates(raw)) {
    if (state.Type !== 'Task') continue;
    if (adapters[name]) throw new Error(`Task state name ${name} is used twice; local overrides are keyed by state name`);
    const resource = String(state.Resource);
    const placeholder = /^\$\{([A-Za-z0-9_]+)\}$/.exec(resource)?.[1];
    const fn = placeholder ? functionPlaceholders()[placeholder] : undefined;
    if (fn) {
      const invoke = functions[fn];
      adapters[name] = async (input) => {
        try {
          return (await invoke(input)) as Json;
        } catch (error) {
          throw lambdaError(error);
        }
      };
    } else if (resource === PUT_EVENTS) {
      adapters[name] = async (input) => {
        const entries = (input as { Entries?: PutEventsEntry[] }).Entries ?? [];
        const result = bus.putEvents(entries);
        if (result.FailedEntryCount > 0) {
          throw namedError('EventBridge.FailedEntry', JSON.stringify(result.Entries.filter((e) => e.ErrorCode)));
        }
        return result as unknown as Json;
      };
    } else if (resource === SEND_MESSAGE) {
      adapters[name] = async (input) => dlq.sendMessage(input as { QueueUrl?: string; MessageBody?: unknown }) as unknown as Json;
    } else {
      throw new Error(`Task state ${name}: no local adapter for Resource ${resource}`);
    }
  }
  return adapters;
}

function retryOverridesFor(raw: StateMachineDefinition, overrides: RetryIntervalOverrides | undefined): Record<string, number | number[]> | undefined {
  if (overrides === undefined) return undefined;
  if (typeof overrides !== 'number') return overrides;
  return Object.fromEntries(allStates(raw).filter(([, s]) => Array.isArray(s.Retry)).map(([name]) => [name, overrides]));
}

const HISTORY = 1000;

export function createLocalWorkflows(options: LocalWorkflowsOptions): LocalWorkflows {
  const report = options.onExecutionFailed ?? ((r: ExecutionRecord) => console.error(`[workflows] ${r.workflow} execution ${r.executionArn} ${r.status}: ${r.error}: ${r.cause}`));
  const build = (workflow: WorkflowName) => {
    const raw = readDefinition(workflow);
    const definition = substitute(raw, localSubstitutions(workflow));
    // Not validated again here: asl-validator compiles its JSON schemas for each definition, about 1.4 s of CPU
    // each at every start (most of a start's time). test/statemachine/definitions.test.ts validates both files
    // (placeholders substituted, ARNs and paths checked), and Step Functions validates them at deploy.
    const machine = new StateMachine(definition, { validationOptions: { noValidate: true } });
    const overrides = {
      taskResourceLocalHandlers: taskAdapters(raw, options.functions, options.bus, options.dlq),
      retryIntervalOverrides: retryOverridesFor(raw, options.retryIntervalOverrides),
    };
    return { machine, overrides };
  };
  const machines = { payment: build('payment'), reward: build('reward') };
  const running = new Map<string, { done: Promise<unknown>; abort: () => void }>();
  const started = new Map<string, ExecutionRecord>();
  let closing = false;

  const execute = async (workflow: WorkflowName, input: unknown, trace: boolean, onStart?: (record: ExecutionRecord) => void): Promise<ExecutionRecord> => {
    if (closing) throw new Error('the local workflow engine is closing');
    const { machine, overrides } = machines[workflow];
    const { type } = TOPOLOGY_WORKFLOWS[workflow];
    const name = machineName(workflow);
    const executionName = randomUUID();
    const machineArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:${name}`;
    const executionArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:${type === 'EXPRESS' ? 'express' : 'execution'}:${name}:${executionName}`;
    const startTime = new Date().toISOString();
    const execution = machine.run(input as Json, {
      overrides,
      context: {
        Execution: { Id: executionArn, Name: executionName, StartTime: startTime, Input: input as Json, RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${name}` },
        StateMachine: { Id: machineArn, Name: name },
      },
    });
    const states: string[] = [];
    const collecting = trace
      ? (async () => {
          for await (const event of execution.eventLogs) {
            if (event.type === 'StateEntered') states.push(event.state.name);
            if (event.type === 'ExecutionSucceeded' || event.type === 'ExecutionFailed' || event.type === 'ExecutionAborted' || event.type === 'ExecutionTimeout') break;
          }
        })()
      : Promise.resolve();
    const base = { executionArn, workflow, input, ...(trace ? { states } : {}) };
    onStart?.({ ...base, status: 'RUNNING' });
    const done = execution.result.then(
      async (output): Promise<ExecutionRecord> => {
        await collecting;
        return { ...base, status: 'SUCCEEDED', output };
      },
      async (error: unknown): Promise<ExecutionRecord> => {
        await Promise.race([collecting, new Promise((resolve) => setTimeout(resolve, 50))]);
        const inner = (error as { cause?: unknown }).cause as Error | undefined;
        const aborted = (error as Error)?.name === 'ExecutionAbortedError';
        return {
          ...base,
          status: aborted ? 'ABORTED' : 'FAILED',
          error: inner?.name ?? (error as Error)?.name ?? 'Error',
          cause: inner?.message ?? (error as Error)?.message ?? String(error),
        };
      },
    );
    running.set(executionArn, { done, abort: execution.abort });
    try {
      return await done;
    } finally {
      running.delete(executionArn);
    }
  };

  /** An asynchronous execution, remembered for `executions()` and reported when it does not succeed. */
  const startTracked = (workflow: WorkflowName, input: unknown, onArn?: (arn: string) => void): Promise<ExecutionRecord> => {
    const done = execute(workflow, input, true, (record) => {
      onArn?.(record.executionArn);
      started.set(record.executionArn, record);
      for (const key of started.keys()) {
        if (started.size <= HISTORY) break;
        started.delete(key);
      }
    });
    return done.then(
      (record) => {
        if (started.has(record.executionArn)) started.set(record.executionArn, record);
        if (record.status !== 'SUCCEEDED') report(record);
        return record;
      },
      (error: unknown) => {
        console.error(`[workflows] could not start a ${workflow} execution: ${(error as Error).message}`);
        throw error;
      },
    );
  };

  const executePayment = async (envelope: PayEnvelope) => {
    const execution = await execute('payment', envelope, true);
    return { response: paymentResponse(execution, report), execution };
  };

  return {
    async runPayment(envelope) {
      return paymentResponse(await execute('payment', envelope, false), report);
    },
    executePayment,
    start(workflow, input) {
      let arn = '';
      void startTracked(workflow, input, (startedArn) => {
        arn = startedArn;
      }).catch(() => undefined);
      return arn;
    },
    run: (workflow, input) => startTracked(workflow, input),
    executions: (workflow) => [...started.values()].filter((r) => r.workflow === workflow),
    async idle() {
      while (running.size) await Promise.allSettled([...running.values()].map((r) => r.done));
    },
    busy: () => running.size > 0,
    async close(graceMs = 5000) {
      closing = true;
      const settled = Promise.allSettled([...running.values()].map((r) => r.done));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        settled.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        for (const execution of running.values()) execution.abort();
        await Promise.allSettled([...running.values()].map((r) => r.done));
      }
    },
  };
}

function paymentResponse(execution: ExecutionRecord, report: (record: ExecutionRecord) => void): PaymentResponse {
  const output = execution.output as { status?: unknown; body?: unknown } | undefined;
  if (execution.status === 'SUCCEEDED' && typeof output?.status === 'number' && typeof output.body === 'string') {
    return { status: output.status, body: output.body };
  }
  const problem = execution.status === 'SUCCEEDED' ? 'the payment workflow returned no {status, body}' : 'the payment workflow failed';
  report(execution.status === 'SUCCEEDED' ? { ...execution, status: 'FAILED', error: 'InvalidOutput', cause: problem } : execution);
  // As API Gateway's response template (lib/api.ts): money may have moved, so the answer is 202 processing.
  return { status: 202, body: JSON.stringify(processingBody()) };
}
