/** Small helpers the benchmarks share (the seeded PRNG is ml/prng.ts: the simulators use it too). */
export { prng } from '../ml/prng';

/** The q-quantile of sorted values (nearest rank). */
export const quantile = (sorted: Float64Array, q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
