/** The seeded PRNG of the simulators and benchmarks: the one routing draws its exploration from (lambdas/shared/prng.ts). */
export { prng } from '../lambdas/shared/prng';
