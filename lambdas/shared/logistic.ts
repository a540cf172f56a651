/** The logistic function and its inverse, in float64 (xgboost's float32 sigmoid is its own: fraud/xgboost.ts). */

/** log(p / (1 − p)): a probability as log-odds. */
export const logit = (p: number): number => Math.log(p / (1 - p));

/** 1 / (1 + e^−z): log-odds as a probability. */
export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
