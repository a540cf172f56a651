/**
 * Runs a workflow Task: parses the payload with the function's step schemas (contracts/steps.ts) and calls
 * the handler's entry for that step. A payload that is not one of the function's steps is a ValidationError
 * naming every bad field.
 */
import { stepPayload, type StepHandlers, type StepInput, type StepName, type StepsOf } from '../../contracts/steps';
import type { FunctionName } from '../../contracts/topology';
import { parseWith } from './http';

export function runStep<F extends FunctionName>(fn: F, steps: StepHandlers<F>, event: unknown): Promise<unknown> {
  const input = parseWith(stepPayload(fn), event, `${fn} step payload`) as StepInput<StepsOf<F>> & { readonly step: StepName };
  // The payload was parsed with this step's own schema (discriminated by `step`), so it is this step's input.
  const run = steps[input.step as StepsOf<F>] as unknown as (input: unknown) => Promise<unknown>;
  return run(input);
}
