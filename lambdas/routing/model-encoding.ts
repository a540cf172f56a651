/**
 * The routing model's stored form, pure (no SDK): the bandit state and the breaker's health as the text of the
 * `model#bandit` and `health#routing` items (dynamo-model-store.ts), compactly enough for one DynamoDB item.
 * States written by older formats still decode.
 */
import type { BanditState } from './bandit';
import { STORED_BEFORE_VOCABULARY } from './context';
import type { ArmState } from './linucb';
import type { AttemptMark, ConnectorHealth } from './health';

/** The item holding the bandit state and its version. */
export const MODEL_KEY = 'model#bandit';
/** The item holding the published health of the newest committed version. */
export const HEALTH_KEY = 'health#routing';

/** DynamoDB's item limit is 400 KB; the model item keeps a margin for the history and the other attributes. */
export const MAX_STATE_BYTES = 350_000;

/**
 * The state as stored (format 4): each arm's A (symmetric) as its upper triangle, row by row, which halves it, and
 * its numbers as base64 of their IEEE 754 doubles (little-endian) where that is shorter than JSON: exact, and about
 * 11 characters a number where JSON's shortest round-trip form of a learnt (discounted, so full-precision) entry
 * takes 16–19. A steady arm at 29 features is then about 4.9 KB (as JSON, 7.5 KB): the model item is rewritten
 * whole by each commit and priced by its size (`npm run cost`). With its segment cells (at most
 * MAX_CELLS_PER_CONNECTOR, about 12 KB) a connector takes up to about 19 KB, so about 18 connectors fit whole;
 * a larger registry keeps fewer cells a connector (halved until it fits, down to none). Formats
 * 2 and 3 (numbers as JSON) still decode. The vocabulary (context.ts) is kept beside the arms; a state without one
 * has the fixed vocabulary of before (STORED_BEFORE_VOCABULARY).
 */
export function encodeState(state: BanditState): string {
  const d = state.dimension;
  const encodeArm = (arm: ArmState) => {
    const upper = new Float64Array((d * (d + 1)) / 2);
    let k = 0;
    for (let i = 0; i < d; i += 1) for (let j = i; j < d; j += 1) upper[k++] = arm.a[i * d + j];
    return { upper: shorter(upper), b: shorter(Float64Array.from(arm.b)), n: arm.n };
  };
  const arms = Object.fromEntries(Object.entries(state.arms).map(([id, arm]) => [id, encodeArm(arm)]));
  const pooled = state.pooled ? { pooled: encodeArm(state.pooled) } : {};
  const health = encodeHealth(state.health);
  const textWith = (cellsCap: number) => {
    const cells = state.cells && cellsCap > 0 ? encodeCells(state.cells, cellsCap) : undefined;
    return JSON.stringify({ format: 4, vocabulary: state.vocabulary, dimension: d, arms, ...pooled, ...(cells ? { cells } : {}), health });
  };
  // A large registry keeps fewer cells a connector (the least used go first), down to none, before it fails.
  let cap = MAX_CELLS_PER_CONNECTOR;
  let text = textWith(cap);
  while (text.length > MAX_STATE_BYTES && cap > 0) {
    cap = cap >= 25 ? Math.floor(cap / 2) : 0;
    text = textWith(cap);
  }
  if (text.length > MAX_STATE_BYTES) {
    throw new Error(`routing model: the state is ${text.length} bytes, over ${MAX_STATE_BYTES} for one DynamoDB item (${Object.keys(arms).length} connectors, ${d} features: ${state.vocabulary.currencies.length} currencies and ${state.vocabulary.regions.length} regions named by the registry); use fewer connectors, or name fewer currencies and countries (\`*\`)`);
  }
  return text;
}

/**
 * Doubles as base64 of their little-endian bytes, or as plain numbers where that is shorter (a young arm's A is
 * mostly zeros, one character each as JSON).
 */
function shorter(values: Float64Array): string | number[] {
  const bytes = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => bytes.writeDoubleLE(v, i * 8));
  const packed = bytes.toString('base64');
  const plain = Array.from(values);
  return packed.length + 2 < JSON.stringify(plain).length ? packed : plain;
}

/** The doubles of `shorter`'s base64 (format 4), or the numbers themselves (formats 2 to 4). */
function numbers(stored: string | readonly number[]): number[] {
  if (typeof stored !== 'string') return [...stored];
  const bytes = Buffer.from(stored, 'base64');
  return Array.from({ length: bytes.length / 8 }, (_, i) => bytes.readDoubleLE(i * 8));
}

export function decodeState(text: string): BanditState {
  type StoredArm = { upper: string | number[]; b: string | number[]; n: number };
  const raw = JSON.parse(text) as { format?: number; vocabulary?: BanditState['vocabulary']; cells?: StoredCells; dimension: number; arms: Record<string, StoredArm>; pooled?: StoredArm; health: BanditState['health'] };
  if (raw.format !== 2 && raw.format !== 3 && raw.format !== 4) {
    throw new Error(`routing model: unknown state format ${JSON.stringify(raw.format)}; reset the routing model (delete the ${MODEL_KEY} and ${HEALTH_KEY} items)`);
  }
  const d = raw.dimension;
  const decodeArm = (arm: StoredArm): ArmState => {
    const upper = numbers(arm.upper);
    const a = new Array<number>(d * d);
    let k = 0;
    for (let i = 0; i < d; i += 1) {
      for (let j = i; j < d; j += 1) {
        a[i * d + j] = upper[k];
        a[j * d + i] = upper[k];
        k += 1;
      }
    }
    return { a, b: numbers(arm.b), n: arm.n };
  };
  const arms = Object.fromEntries(Object.entries(raw.arms).map(([id, arm]) => [id, decodeArm(arm)]));
  // A state stored before the pooled arm existed has none: it grows from the next outcome on. One stored before the
  // vocabulary came from the registry has the fixed one of then.
  return {
    vocabulary: raw.vocabulary ?? STORED_BEFORE_VOCABULARY,
    dimension: d,
    arms,
    ...(raw.pooled ? { pooled: decodeArm(raw.pooled) } : {}),
    ...(raw.cells ? { cells: decodeCells(raw.cells) } : {}),
    health: decodeHealth(raw.health),
  };
}

/** The cells as stored: per connector, per cell, [residual, count]. */
type StoredCells = Record<string, Record<string, readonly [number, number]>>;

/** The cells a connector keeps at most in the stored model: the most used (by discounted count). About 12 KB. */
export const MAX_CELLS_PER_CONNECTOR = 200;

/** The segment cells, exactly, at most `cap` per connector (the least used dropped). */
export function encodeCells(cells: NonNullable<BanditState['cells']>, cap = MAX_CELLS_PER_CONNECTOR): StoredCells {
  return Object.fromEntries(
    Object.entries(cells).map(([id, own]) => {
      const entries = Object.entries(own);
      const kept = entries.length <= cap ? entries : entries.sort((x, y) => y[1].n - x[1].n || x[0].localeCompare(y[0])).slice(0, cap);
      return [id, Object.fromEntries(kept.map(([cell, c]) => [cell, [c.residual, c.n] as const]))];
    }),
  );
}

function decodeCells(stored: StoredCells): NonNullable<BanditState['cells']> {
  return Object.fromEntries(Object.entries(stored).map(([id, own]) => [id, Object.fromEntries(Object.entries(own).map(([cell, [residual, n]]) => [cell, { residual, n }]))]));
}

/** A connector's health as stored: its attempts as offsets from the newest one (see encodeHealth). */
type StoredHealth = Omit<ConnectorHealth, 'recent'> & { readonly rt?: number; readonly r: readonly number[] };

/**
 * The breaker's state as stored, compactly: each connector's recent attempts become one number each, the
 * offset in ms before the newest attempt (`rt`), negated minus one for a failure. A registry of 45 connectors
 * adds about 8 KB to the model item.
 */
export function encodeHealth(health: BanditState['health']): Record<string, StoredHealth> {
  return Object.fromEntries(
    Object.entries(health).map(([id, { recent, ...rest }]) => {
      if (recent.length === 0) return [id, { ...rest, r: [] }];
      const rt = Math.max(...recent.map((a) => a.t));
      return [id, { ...rest, rt, r: recent.map((a) => (a.failed ? -(rt - a.t) - 1 : rt - a.t)) }];
    }),
  );
}

/**
 * The inverse of encodeHealth. States stored before it read as they were: attempts as objects, or as booleans
 * (before attempts had times), which become attempts of time 0 (they still count as "in a row", never as
 * recent).
 */
export function decodeHealth(stored: Readonly<Record<string, StoredHealth | ConnectorHealth>>): BanditState['health'] {
  return Object.fromEntries(
    Object.entries(stored).map(([id, h]) => {
      if (!('r' in h)) {
        const recent = (h.recent as ReadonlyArray<AttemptMark | boolean>).map((a) => (typeof a === 'boolean' ? { failed: a, t: 0 } : a));
        return [id, { ...h, recent }];
      }
      const { rt, r, ...rest } = h;
      return [id, { ...rest, recent: r.map((v) => (v < 0 ? { failed: true, t: (rt ?? 0) + v + 1 } : { failed: false, t: (rt ?? 0) - v })) }];
    }),
  );
}
