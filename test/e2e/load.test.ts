/**
 * `npm run test:load`'s machinery: the SLA's judgement on figures, and a short run of the whole suite (the
 * platform as `npm start` runs it, every endpoint of the mix, a fixed rate and two rising steps). Latency is not
 * asserted here (a loaded test machine); the full run is `npm run test:load`.
 */
import { ENDPOINTS, figures, runLoad, slaBreaches, type EndpointFigures, type LoadReport } from '../load/run';

const answered = (latency: number, status = 200) => ({ latency, outcome: { kind: 'answered' as const, status, body: '' } });

describe('the SLA judgement', () => {
  it('computes the percentiles and counts 5xx, errors and timeouts as failed', () => {
    const samples = [...Array.from({ length: 97 }, (_, i) => answered(i + 1)), answered(300, 503), { latency: 10, outcome: { kind: 'timeout' as const } }, { latency: 5, outcome: { kind: 'error' as const, why: 'ECONNRESET' } }];
    const f = figures(samples);
    expect(f).toMatchObject({ requests: 100, failed: 3, statuses: { '200': 97, '503': 1, timeout: 1, 'error:ECONNRESET': 1 } });
    expect(f.p50).toBe(50);
    expect(f.p99).toBe(300);
  });

  it('breaks on an endpoint p95 of 200 ms or more, and on 0.1% or more failed', () => {
    const ok: EndpointFigures = figures(Array.from({ length: 1001 }, () => answered(50)));
    expect(slaBreaches({ 'POST /pay': ok }, ok)).toEqual([]);
    const slow = figures(Array.from({ length: 100 }, (_, i) => answered(i < 94 ? 50 : 250)));
    expect(slaBreaches({ 'POST /pay': ok, 'POST /chat': slow }, ok)).toEqual(['POST /chat p95 250 ms ≥ 200 ms']);
    const oneIn1001 = figures([...Array.from({ length: 1000 }, () => answered(50)), answered(40, 500)]);
    expect(slaBreaches({ 'POST /pay': oneIn1001 }, oneIn1001)).toEqual([]);
    const oneIn1000 = figures([...Array.from({ length: 999 }, () => answered(50)), answered(40, 500)]);
    expect(slaBreaches({ 'POST /pay': oneIn1000 }, oneIn1000)).toEqual(['1 of 1000 requests failed (500×1): 0.10% ≥ 0.1%']);
    // Declines and other 4xx are answers, not failures.
    const declines = figures([...Array.from({ length: 900 }, () => answered(50, 201)), ...Array.from({ length: 100 }, () => answered(50, 402))]);
    expect(slaBreaches({ 'POST /pay': declines }, declines)).toEqual([]);
  });
});

describe('npm run test:load, short', () => {
  let report: LoadReport;
  beforeAll(async () => {
    report = await runLoad({ rate: 8, duration: 3, warmup: 1, from: 5, maxRate: 8, stepDuration: 2, settle: 0, log: () => undefined });
  }, 120_000);

  it('drives every endpoint of the mix, with no 5xx or failed request at a gentle rate', () => {
    expect(report.fixed.sent).toBe(24);
    expect(report.fixed.all.requests).toBe(24);
    for (const step of [report.fixed, ...report.steps]) expect({ label: step.label, failed: step.all.failed }).toEqual({ label: step.label, failed: 0 });
    const seen = new Set([report.fixed, ...report.steps].flatMap((p) => Object.keys(p.endpoints)));
    expect([...seen].sort()).toEqual([...ENDPOINTS].sort());
  });

  it('runs the rising rates and reports them', () => {
    // 5 then 8 req/s, unless the SLA broke at 5 on a loaded machine (then the report says where).
    expect(report.steps[0]?.rate).toBe(5);
    expect(report.steps.map((s) => s.rate)).toEqual(report.steps[0]!.breaches.length ? [5] : [5, 8]);
    if (report.steps.some((s) => s.breaches.length)) expect(report.text).toMatch(/broke at \d+ req\/s/);
    expect(report.text).toMatch(/Fixed rate: 8 req\/s/);
    expect(report.text).toMatch(/Rising rates/);
    expect(report.text).toMatch(/p50 ms +p95 ms +p99 ms/);
  });
});
