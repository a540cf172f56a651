import { attribute } from '../../bench/profile';

/** A profile node: `url` '' for V8's own entries. */
const node = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url }, children });

const SDK = 'file:///app/node_modules/@smithy/core/dist-cjs/index.js';
const FRAUD = 'file:///app/lambdas/fraud/model.ts';
const ENGINE = 'file:///app/node_modules/aws-local-stepfunctions/build/main.node.cjs';

describe('bench/profile attribute', () => {
  // root ─ engine ─ fraud handler ─┬ fraud model (self)
  //                                └ SDK send ─ crypto (node internals)
  //      ─ (garbage collector)   ─ (idle)   ─ JSON.parse (no known part)
  const profile = {
    nodes: [
      node(1, '(root)', '', [2, 7, 8, 9]),
      node(2, 'execute', ENGINE, [3]),
      node(3, 'score', FRAUD, [4, 5]),
      node(4, 'predict', FRAUD),
      node(5, 'send', SDK, [6]),
      node(6, 'Hmac', 'node:internal/crypto/hash'),
      node(7, '(garbage collector)', ''),
      node(8, '(idle)', ''),
      node(9, 'parse', ''),
    ],
    samples: [4, 6, 6, 2, 7, 8, 8, 9],
    timeDeltas: [1000, 1000, 1000, 1000, 1000, 5000, 5000, 1000],
  };

  it("gives each sample to the nearest known part on its stack, in ms, leaving idle time out", () => {
    const parts = Object.fromEntries(attribute(profile).map((p) => [p.part.split(' (')[0], p.ms]));
    expect(parts).toEqual({
      'AWS SDK client': 2, // the SDK's own crypto counts as SDK, not as the fraud handler that called it
      'fraud domain': 1,
      'Step Functions engine': 1,
      'garbage collection': 1,
      other: 1,
    });
  });

  it('lists the parts largest first', () => {
    const ms = attribute(profile).map((p) => p.ms);
    expect(ms).toEqual([...ms].sort((a, b) => b - a));
  });
});
