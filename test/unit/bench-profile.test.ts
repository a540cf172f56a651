import { attribute } from '../../bench/profile';

/** A profile node: `url` '' for V8's own entries. */
const node = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url }, children });

const SDK = 'file:///app/node_modules/@smithy/core/dist-cjs/index.js';
const FRAUD = 'file:///app/lambdas/fraud/model.ts';
const ENGINE = 'file:///app/node_modules/aws-local-stepfunctions/build/main.node.cjs';
const SERVER = 'file:///app/local/server.ts';

describe('bench/profile attribute', () => {
  // root ─ engine ─ fraud handler ─┬ fraud model (self)
  //                                └ SDK send ─┬ crypto (node internals)
  //                                            └ _http_client request ─ _http_outgoing end ─ writev (native)
  //      ─ local server ─ _http_outgoing end (the platform's own response)
  //      ─ (garbage collector)   ─ (idle)   ─ (program)   ─ JSON.parse (no known part)
  const profile = {
    nodes: [
      node(1, '(root)', '', [2, 7, 8, 9, 10, 13]),
      node(2, 'execute', ENGINE, [3]),
      node(3, 'score', FRAUD, [4, 5]),
      node(4, 'predict', FRAUD),
      node(5, 'send', SDK, [6, 11]),
      node(6, 'Hmac', 'node:internal/crypto/hash'),
      node(7, '(garbage collector)', ''),
      node(8, '(idle)', ''),
      node(9, 'parse', ''),
      node(10, '(program)', ''),
      node(11, 'ClientRequest', 'node:_http_client', [12]),
      node(12, 'end', 'node:_http_outgoing'),
      node(13, 'respond', SERVER, [14]),
      node(14, 'end', 'node:_http_outgoing'),
    ],
    samples: [4, 6, 6, 12, 2, 7, 8, 8, 8, 8, 9, 10, 14],
  };
  // 13 samples, 4 idle: 9 busy, so each is a ninth of the CPU.
  const parts = () => Object.fromEntries(attribute(profile, 90).map((p) => [p.part.split(' (')[0], p.ms]));

  it('splits the measured CPU by each part\'s share of the busy samples (idle left out)', () => {
    expect(parts()).toEqual({
      'AWS SDK client': 30, // its own crypto and the socket write under its request count as SDK, not as the fraud handler that called it
      'fraud domain': 10,
      'Step Functions engine': 10,
      'local platform': 10, // the same _http_outgoing under the platform's server is the platform's
      'garbage collection': 10,
      other: 20, // JSON.parse with no known caller, and V8's native (program) work
    });
  });

  it('lists the parts largest first, and they add up to the CPU given', () => {
    const ms = attribute(profile, 90).map((p) => p.ms);
    expect(ms).toEqual([...ms].sort((a, b) => b - a));
    expect(ms.reduce((a, b) => a + b, 0)).toBeCloseTo(90, 9);
  });
});
