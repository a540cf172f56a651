/**
 * The graph inputs (lambdas/fraud/graph.ts): no leakage through the graph, the K most recent neighbours of the
 * last 30 days, inductive scoring of nodes never seen, and a model file that fails loudly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_FEATURE_OPTIONS, featureVector } from '../../lambdas/fraud/features';
import {
  CUSTOMER_BLOCK,
  CUSTOMER_SNAPSHOT,
  DEVICE_SNAPSHOT,
  observeDevice,
  GRAPH_K,
  GRAPH_WINDOW_DAYS,
  GraphSageModel,
  graphInputs,
  neighbours,
  TERMINAL_BLOCK,
  TERMINAL_SNAPSHOT,
  type GraphEdge,
} from '../../lambdas/fraud/graph';
import { DEFAULT_MODEL_DIR, GRAPH_REASON, loadFraudModel } from '../../lambdas/fraud/model';
import { replay, replayStates } from '../../ml/replay';
import { randomHistory } from '../fixtures/history';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 2);
const weights = JSON.parse(readFileSync(join(DEFAULT_MODEL_DIR, 'graphsage.json'), 'utf8'));
const model = loadFraudModel();

const edge = (t: number, z: number[] | undefined = new Array(TERMINAL_SNAPSHOT).fill(0.5)): GraphEdge => ({ t, amount: 10, z });
const flat = (g: ReturnType<typeof graphInputs>) =>
  [g.customer, g.terminal, ...g.customerNeighbours, ...g.terminalNeighbours, g.device ?? [], ...(g.deviceNeighbours ?? [])].flat();

describe('graph neighbours', () => {
  const now = T0 + 40 * DAY;

  it('are the K most recent edges before now, within the window, oldest first', () => {
    const edges = Array.from({ length: 20 }, (_, i) => edge(now - (20 - i) * 3_600_000));
    const picked = neighbours(edges, now);
    expect(picked).toHaveLength(GRAPH_K);
    expect(picked).toEqual(edges.slice(20 - GRAPH_K));
  });

  it('never include an edge at or after now, or older than the window, or without a snapshot', () => {
    const old = edge(now - (GRAPH_WINDOW_DAYS * DAY + 1));
    const atNow = edge(now);
    const later = edge(now + 1);
    const bare: GraphEdge = { t: now - 5, amount: 10 };
    const kept = edge(now - 10);
    expect(neighbours([old, kept, bare, atNow, later], now)).toEqual([kept]);
  });

  it('summarise the counterparts, the amounts, the ages and the degree in the snapshot', () => {
    const z = new Array(TERMINAL_SNAPSHOT).fill(0);
    z[0] = 2; // the first terminal-block value of the neighbour
    const g = graphInputs(new Float64Array(27).fill(Number.NaN), [edge(now - 3_600_000, z), { t: now - 3 * 3_600_000, amount: 30, z: z.map((v) => v * 3) }], undefined, now);
    const s = g.customer.slice(CUSTOMER_BLOCK.length);
    expect(s[0]).toBeCloseTo(4, 6); // mean of 2 and 6
    expect(s[TERMINAL_BLOCK.length]).toBeCloseTo((Math.log1p(10) + Math.log1p(30)) / 2, 6);
    expect(s[TERMINAL_BLOCK.length + 1]).toBeCloseTo((Math.log1p(1) + Math.log1p(3)) / 2, 6);
    expect(s[TERMINAL_BLOCK.length + 2]).toBeCloseTo(Math.log1p(2), 6);
    expect(g.customer).toHaveLength(CUSTOMER_SNAPSHOT);
    expect(g.terminal).toHaveLength(TERMINAL_SNAPSHOT);
  });
});

describe('device nodes', () => {
  const now = T0 + 10 * DAY;
  const at = (i: number, customerId: string) => ({
    txId: `d${i}`, time: now - (20 - i) * 60_000, customerId, terminalId: 't', amountMinor: 100, currency: 'USD', deviceId: 'dev',
  });
  const z = new Array(CUSTOMER_SNAPSHOT).fill(0.25);

  it('are absent without a device, and a device never seen still has a snapshot', () => {
    const vector = new Float64Array(27).fill(Number.NaN);
    expect(graphInputs(vector, undefined, undefined, now).device).toBeUndefined();
    const fresh = graphInputs(vector, undefined, undefined, now, {});
    expect(fresh.device).toEqual([1, ...new Array(DEVICE_SNAPSHOT - 1).fill(0)]);
    expect(fresh.deviceNeighbours).toEqual([]);
  });

  it('keep the newest K customers and count the distinct ones (one device, many cards)', () => {
    let shared = undefined as ReturnType<typeof observeDevice> | undefined;
    for (let i = 0; i < 12; i += 1) shared = observeDevice(shared, at(i, `c${i % 6}`), z);
    let own = undefined as ReturnType<typeof observeDevice> | undefined;
    for (let i = 0; i < 12; i += 1) own = observeDevice(own, at(i, 'c0'), z);
    expect(shared!.edges.map((e) => e.id)).toEqual(Array.from({ length: GRAPH_K }, (_, i) => `d${i + 12 - GRAPH_K}`));
    const vector = new Float64Array(27).fill(Number.NaN);
    const distinct = (state: typeof shared) => graphInputs(vector, undefined, undefined, now, state).device!.at(-1);
    expect(distinct(shared)).toBeCloseTo(Math.log1p(6), 6);
    expect(distinct(own)).toBeCloseTo(Math.log1p(1), 6);
    expect(graphInputs(vector, undefined, undefined, now, shared).deviceNeighbours).toHaveLength(GRAPH_K);
  });
});

describe('no leakage through the graph', () => {
  const history = randomHistory(11, 700, { customers: 12, terminals: 6, start: T0, days: 60 });
  const baseline = [...replay(history)];
  const D = DEFAULT_FEATURE_OPTIONS.feedbackDelayDays * DAY;

  it('has real neighbourhoods to test (so the checks below can fail)', () => {
    expect(baseline.filter((r) => r.graph.customerNeighbours.length === GRAPH_K).length).toBeGreaterThan(100);
    expect(baseline.filter((r) => r.graph.terminalNeighbours.length === GRAPH_K).length).toBeGreaterThan(300);
    expect(baseline.filter((r) => r.graph.deviceNeighbours?.length === GRAPH_K).length).toBeGreaterThan(100);
    expect(baseline.some((r) => r.graph.device === undefined)).toBe(true);
  });

  it('the future never changes the past: graph inputs depend only on earlier transactions', () => {
    const prefix = [...replay(history.slice(0, 350))];
    for (let i = 0; i < 350; i += 1) expect(flat(prefix[i].graph)).toEqual(flat(baseline[i].graph));
  });

  it('labels younger than t − D never change the graph inputs at t, and older labels do', () => {
    for (const index of [200, 450, 699]) {
      const t = history[index].time;
      const flipped = history.map((h) => (h.time >= t - D ? { ...h, label: (1 - (h.label ?? 0)) as 0 | 1 } : h));
      expect(flat([...replay(flipped)][index].graph)).toEqual(flat(baseline[index].graph));
    }
    const allFlipped = [...replay(history.map((h) => ({ ...h, label: (1 - (h.label ?? 0)) as 0 | 1 })))];
    expect(allFlipped.some((r, i) => flat(r.graph).some((v, j) => v !== flat(baseline[i].graph)[j]))).toBe(true);
  });

  it('a later transaction of a neighbour does not reach back into an earlier snapshot', () => {
    // Append a burst at one terminal after the history: every earlier row must be unchanged.
    const end = history[history.length - 1].time;
    const burst = Array.from({ length: 30 }, (_, i) => ({ ...history[0], txId: `late${i}`, time: end + (i + 1) * 1000, terminalId: history[0].terminalId }));
    const extended = [...replay([...history, ...burst])];
    for (let i = 0; i < history.length; i += 1) expect(flat(extended[i].graph)).toEqual(flat(baseline[i].graph));
  });
});

describe('inductive scoring', () => {
  it('scores a customer and a terminal never seen, with no neighbours', () => {
    const tx = { txId: 'n1', time: T0, customerId: 'new', terminalId: 'new', amountMinor: 2_500, currency: 'USD' };
    const vector = featureVector(tx, undefined, undefined);
    const graph = graphInputs(vector, undefined, undefined, tx.time);
    expect(graph.customerNeighbours).toEqual([]);
    expect(graph.terminalNeighbours).toEqual([]);
    expect(flat(graph).every(Number.isFinite)).toBe(true);
    const { score } = model.score(vector, graph);
    expect(score).toBeGreaterThan(0);
    expect(score).toBeLessThan(1);
  });

  it('embeds a new customer at a known terminal from the terminal’s neighbours, and that changes the score', () => {
    const history = randomHistory(5, 300, { customers: 10, terminals: 2, start: T0, days: 20 });
    const states = [...replayStates([...history, { ...history[0], txId: 'z', customerId: 'stranger', time: history[history.length - 1].time + 1000 }])];
    const last = states[states.length - 1];
    expect(last.customer).toBeUndefined();
    expect(last.graph.terminalNeighbours).toHaveLength(GRAPH_K);
    const withNeighbours = model.score(last.vector, last.graph).score;
    const without = model.score(last.vector, { ...last.graph, terminalNeighbours: [] }).score;
    expect(withNeighbours).not.toBeCloseTo(without, 6);
  });

  it('explains with features and, when it raises the score, the neighbourhood', () => {
    const rows = [...replay(randomHistory(9, 400, { customers: 10, terminals: 3, start: T0, days: 30 }))];
    const reasons = rows.flatMap((r) => model.score(r.vector, r.graph).reasons);
    expect(reasons.length).toBeGreaterThan(0);
    for (const reason of reasons) expect(reason.weight).toBeGreaterThan(0);
    expect(reasons.some((r) => r.code !== GRAPH_REASON)).toBe(true);
  });
});

describe('GraphSAGE weights', () => {
  const file = '/models/graphsage.json';
  it('load when they match this code', () => {
    expect(() => GraphSageModel.fromJSON(weights, file)).not.toThrow();
  });

  it.each([
    ['another K', { ...weights, k: GRAPH_K + 1 }, /trained with K = 9 neighbours but this code samples 8/],
    ['other features', { ...weights, features: weights.features.slice(1) }, /features differ from lambdas\/fraud\/features\.ts/],
    ['a layer of the wrong shape', { ...weights, customer: { ...weights.customer, layer1: { ...weights.customer.layer1, weight: weights.customer.layer1.weight.map((r: number[]) => r.slice(1)) } } }, /customer\.layer1: every weight row must hold 19 finite numbers/],
    ['a device layer of the wrong shape', { ...weights, device: { ...weights.device, layer2: { ...weights.device.layer2, bias: [1] } } }, /device\.layer2 must have 32 outputs/],
    ['a NaN weight', { ...weights, head: { ...weights.head, out: { weight: [[null, ...weights.head.out.weight[0].slice(1)]], bias: weights.head.out.bias } } }, /head\.out: every weight row/],
    ['not GraphSAGE', { kind: 'mlp' }, /not GraphSAGE weights/],
  ])('fail with %s, naming the file', (_name, json, message) => {
    expect(() => GraphSageModel.fromJSON(json, file)).toThrow(new RegExp(`^${file}: .*${message.source}`));
  });
});
