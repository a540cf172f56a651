/**
 * The TypeScript XGBoost evaluator against xgboost itself: test/fixtures/xgboost/{model,golden}.json come from
 * ml/xgb_golden.py (xgboost 1.7.4), so this runs without Python. Plus a hand-made one-tree model whose paths are
 * known, and the errors for broken or unsupported files.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XGBoostModel, XGBoostModelError } from '../../lambdas/fraud/xgboost';

const FIXTURES = join(__dirname, '..', 'fixtures', 'xgboost');
const MODEL_PATH = join(FIXTURES, 'model.json');

interface Golden {
  xgboost_version: string;
  num_trees: number;
  feature_names: string[];
  rows: (number | null)[][];
  margin: number[];
  prob: number[];
  approx_contribs: number[][];
}

const maxAbs = (values: number[]) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe('XGBoostModel against xgboost (golden fixtures)', () => {
  const golden = JSON.parse(readFileSync(join(FIXTURES, 'golden.json'), 'utf8')) as Golden;
  const model = XGBoostModel.fromFile(MODEL_PATH);
  const rows = golden.rows.map((row) => row.map((v) => (v === null ? NaN : v)));
  const margins = rows.map((row) => model.margin(row));
  const probs = rows.map((row) => model.predict(row));
  const contribs = rows.map((row) => model.contributions(row));
  const marginDiff = maxAbs(margins.map((m, i) => m - golden.margin[i]));
  const probDiff = maxAbs(probs.map((p, i) => p - golden.prob[i]));
  const contribDiff = maxAbs(contribs.flatMap((c, i) => [...c].map((v, j) => v - golden.approx_contribs[i][j])));
  const sumDiff = maxAbs(contribs.map((c, i) => c.reduce((a, b) => a + b, 0) - margins[i]));

  it('reads the model: gbtree binary:logistic, feature names, trees, logit of base_score 0.2', () => {
    expect(model.objective).toBe('binary:logistic');
    expect(model.numFeatures).toBe(30);
    expect(model.featureNames).toEqual(golden.feature_names);
    expect(model.numTrees).toBe(golden.num_trees);
    expect(model.numTrees).toBeGreaterThan(50);
    expect(model.baseMargin).toBeCloseTo(Math.log(0.2 / 0.8), 6);
  });

  it('the golden rows cover missing values: an all-NaN row, rows with whole blocks missing, ~12% NaN overall', () => {
    expect(golden.rows).toHaveLength(200);
    expect(golden.rows.some((row) => row.every((v) => v === null))).toBe(true);
    const missing = golden.rows.flat().filter((v) => v === null).length / golden.rows.flat().length;
    expect(missing).toBeGreaterThan(0.08);
    // The predictions are not all alike (a constant model would pass parity too easily).
    expect(Math.max(...golden.prob) - Math.min(...golden.prob)).toBeGreaterThan(0.3);
    expect(new Set(golden.margin).size).toBeGreaterThan(190);
  });

  it(`margin parity ≤ 1e-5 on all ${golden.rows.length} rows (max abs diff ${marginDiff.toExponential(2)}, xgboost ${golden.xgboost_version})`, () => {
    expect(margins).toHaveLength(golden.margin.length);
    expect(marginDiff).toBeLessThanOrEqual(1e-5);
  });

  it('margins are bit-identical to xgboost (float32 accumulation in tree order, float32 thresholds)', () => {
    expect(margins.filter((m, i) => m !== golden.margin[i])).toEqual([]);
  });

  it(`probability parity ≤ 1e-6 (max abs diff ${probDiff.toExponential(2)})`, () => {
    expect(probDiff).toBeLessThanOrEqual(1e-6);
    expect([...model.predictBatch(rows)]).toEqual(probs);
  });

  it(`contributions parity ≤ 1e-5 with approx_contribs (max abs diff ${contribDiff.toExponential(2)}), summing to the margin (${sumDiff.toExponential(2)})`, () => {
    for (const c of contribs) expect(c).toHaveLength(model.numFeatures + 1);
    expect(contribDiff).toBeLessThanOrEqual(1e-5);
    expect(sumDiff).toBeLessThanOrEqual(1e-5);
  });

  it('the pointer layout (for trees too deep to pad) gives the same margins', () => {
    const pointers = XGBoostModel.fromFile(MODEL_PATH, { maxCompleteDepth: 0 });
    expect(rows.map((row) => pointers.margin(row))).toEqual(margins);
  });

  it('treats undefined and null as missing, like NaN', () => {
    const withNaN = rows.find((row) => row.some(Number.isNaN)) as number[];
    const asUndefined = withNaN.map((v) => (Number.isNaN(v) ? undefined : v)) as unknown as number[];
    const asNull = withNaN.map((v) => (Number.isNaN(v) ? null : v)) as unknown as number[];
    expect(model.margin(asUndefined)).toBe(model.margin(withNaN));
    expect(model.margin(asNull)).toBe(model.margin(withNaN));
  });

  it('rejects a row of the wrong length', () => {
    expect(() => model.predict([1, 2, 3])).toThrow(/must have 30 features .*got 3/);
  });
});

/**
 * One tree, base_score 0.5 (margin 0):
 *   node 0: x0 < 0.5, missing → left         node 1: x1 < 0.1 (float32 0.100000001…), missing → right
 *   node 2: leaf 0.3    node 3: leaf -0.2    node 4: leaf 0.1
 * Hessians 10, 6, 4, 2, 4: E[1] = (-0.2·2 + 0.1·4)/6 = 0, E[0] = (0·6 + 0.3·4)/10 = 0.12.
 */
function handMade(): Record<string, unknown> {
  return {
    learner: {
      attributes: {},
      feature_names: ['x0', 'x1', 'x2'],
      gradient_booster: {
        name: 'gbtree',
        model: {
          gbtree_model_param: { num_parallel_tree: '1', num_trees: '1', size_leaf_vector: '0' },
          tree_info: [0],
          trees: [
            {
              base_weights: [0.4, 0, 1, -0.7, 0.3],
              categories: [],
              categories_nodes: [],
              categories_segments: [],
              categories_sizes: [],
              default_left: [1, 0, 0, 0, 0],
              id: 0,
              left_children: [1, 3, -1, -1, -1],
              right_children: [2, 4, -1, -1, -1],
              split_indices: [0, 1, 0, 0, 0],
              split_conditions: [0.5, 0.1, 0.3, -0.2, 0.1],
              split_type: [0, 0, 0, 0, 0],
              sum_hessian: [10, 6, 4, 2, 4],
              loss_changes: [1, 1, 0, 0, 0],
              parents: [2147483647, 0, 0, 1, 1],
              tree_param: { num_deleted: '0', num_feature: '3', num_nodes: '5', size_leaf_vector: '0' },
            },
          ],
        },
      },
      learner_model_param: { base_score: '5E-1', boost_from_average: '1', num_class: '0', num_feature: '3', num_target: '1' },
      objective: { name: 'binary:logistic', reg_loss_param: { scale_pos_weight: '1' } },
    },
    version: [1, 7, 4],
  };
}

type Mutable = { learner: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
const tree0 = (json: Mutable) => json.learner.gradient_booster.model.trees[0];

describe('XGBoostModel: a hand-made tree with known paths', () => {
  const model = XGBoostModel.fromJSON(handMade(), 'hand-made');
  const f = Math.fround;

  it.each([
    ['x0 < 0.5 and x1 < 0.1: left, left', [0, 0, 7], -0.2],
    ['x0 == 0.5 goes right (strict <)', [0.5, 0, 0], 0.3],
    ['x0 missing follows default_left (left), then x1 < 0.1', [NaN, 0, 0], -0.2],
    ['both missing: left at the root, right at node 1 (default_left 0)', [NaN, NaN, NaN], 0.1],
    ['x1 = 0.1 as a double is below the float64 threshold but equal in float32: right', [0, 0.1, 0], 0.1],
    ['x1 just below float32(0.1) in float32 goes left', [0, 0.09999999, 0], -0.2],
  ])('%s', (_, row, leaf) => {
    expect(model.margin(row)).toBe(f(leaf));
    expect(model.predict(row)).toBeCloseTo(1 / (1 + Math.exp(-leaf)), 7);
  });

  it('a tree that is a single leaf adds its value; it contributes to the bias only', () => {
    const json = handMade() as Mutable;
    const model = json.learner.gradient_booster.model;
    model.trees.push({ ...tree0(json), left_children: [-1], right_children: [-1], split_indices: [0], split_conditions: [0.25],
      default_left: [0], split_type: [0], sum_hessian: [10], base_weights: [0.25], tree_param: { num_nodes: '1' } });
    model.tree_info.push(0);
    model.gbtree_model_param.num_trees = '2';
    for (const options of [{}, { maxCompleteDepth: 1 }, { maxCompleteDepth: 0 }]) {
      const two = XGBoostModel.fromJSON(json, 'two trees', options);
      expect(two.margin([0.7, 0, 0])).toBe(f(0.3 + 0.25));
      expect(two.margin([0, 0, 0])).toBe(f(f(-0.2) + f(0.25)));
    }
    const c = XGBoostModel.fromJSON(json).contributions([0.7, 0, 0]);
    expect(c[0]).toBeCloseTo(0.18, 6);
    expect(c[3]).toBeCloseTo(0.12 + 0.25, 6);
  });

  it('undefined and null are missing', () => {
    expect(model.margin([undefined, null, 0] as unknown as number[])).toBe(f(0.1));
  });

  it('flipping default_left at the root sends a missing x0 right', () => {
    const json = handMade() as Mutable;
    tree0(json).default_left[0] = 0;
    expect(XGBoostModel.fromJSON(json).margin([NaN, 0, 0])).toBe(f(0.3));
  });

  it('Saabas contributions: bias E[root], then the change of expected value along the path', () => {
    const c = model.contributions([NaN, NaN, 5]);
    expect(c).toHaveLength(4);
    expect(c[0]).toBeCloseTo(0 - 0.12, 7); // node 0 → node 1
    expect(c[1]).toBeCloseTo(0.1 - 0, 7); // node 1 → leaf 4
    expect(c[2]).toBe(0); // unused feature
    expect(c[3]).toBeCloseTo(0.12, 7); // E[root] + base margin 0
    const right = model.contributions([0.7, 0, 0]);
    expect([...right].map((v) => Number(v.toFixed(6)))).toEqual([0.18, 0, 0, 0.12]);
  });

  it('base_score becomes a margin with logit; reg:squarederror keeps it and returns the margin', () => {
    const logistic = handMade() as Mutable;
    logistic.learner.learner_model_param.base_score = '2E-1';
    expect(XGBoostModel.fromJSON(logistic).margin([0.7, 0, 0])).toBeCloseTo(Math.log(0.25) + 0.3, 6);
    const regression = handMade() as Mutable;
    regression.learner.objective = { name: 'reg:squarederror' };
    regression.learner.learner_model_param.base_score = '1.5';
    expect(XGBoostModel.fromJSON(regression).predict([0.7, 0, 0])).toBeCloseTo(1.8, 6);
  });
});

describe('XGBoostModel: errors name the file and what is wrong', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'xgb-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: unknown) => {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
    return path;
  };
  const loadError = (path: string): XGBoostModelError => {
    try {
      XGBoostModel.fromFile(path);
    } catch (error) {
      expect(error).toBeInstanceOf(XGBoostModelError);
      return error as XGBoostModelError;
    }
    throw new Error(`${path} loaded without an error`);
  };
  const mutated = (change: (json: Mutable) => void) => {
    const json = handMade() as Mutable;
    change(json);
    return json;
  };

  it('a missing file', () => {
    const path = join(dir, 'absent.json');
    expect(loadError(path).message).toMatch(new RegExp(`^${path}: cannot read the model file \\(ENOENT`));
  });

  it('invalid JSON, with a hint for a binary model', () => {
    expect(loadError(write('truncated.json', '{"learner": {')).message).toMatch(/truncated\.json: not valid JSON \(/);
    expect(loadError(write('model.ubj', '{L\u0000\u0000')).message).toMatch(/model\.ubj: not valid JSON .*save_model\("model\.json"\)/);
  });

  it('not a model at all', () => {
    expect(loadError(write('list.json', [1, 2])).message).toMatch(/list\.json: not an XGBoost JSON model/);
    expect(loadError(write('empty.json', {})).message).toMatch(/empty\.json: \(model\)\.learner is missing/);
  });

  it.each([
    ['an unsupported objective', (j: Mutable) => (j.learner.objective.name = 'reg:gamma'), /objective "reg:gamma" is not supported/],
    ['multi-class', (j: Mutable) => (j.learner.objective.name = 'multi:softprob'), /objective "multi:softprob" is not supported/],
    ['num_class > 1', (j: Mutable) => (j.learner.learner_model_param.num_class = '3'), /multi-class models are not supported \(num_class=3\)/],
    ['gblinear', (j: Mutable) => (j.learner.gradient_booster = { name: 'gblinear', model: { weights: [0] } }), /gradient booster "gblinear" is not supported/],
    ['dart', (j: Mutable) => (j.learner.gradient_booster.name = 'dart'), /gradient booster "dart" is not supported/],
    ['a categorical split', (j: Mutable) => (tree0(j).split_type[1] = 1), /trees\[0\] has categorical splits \(node 1\)/],
    ['mismatched arrays', (j: Mutable) => tree0(j).split_conditions.pop(), /trees\[0\]\.left_children has 5 entries but split_conditions has 4/],
    ['a child out of range', (j: Mutable) => (tree0(j).right_children[1] = 9), /trees\[0\] node 1 has a child out of range/],
    ['a cycle', (j: Mutable) => (tree0(j).left_children[1] = 0), /trees\[0\] is not a tree: node 0 is reached twice/],
    ['a split on an absent feature', (j: Mutable) => (tree0(j).split_indices[0] = 3), /trees\[0\]\.split_indices\[0\] is 3, outside the 3 features/],
    ['a non-numeric threshold', (j: Mutable) => (tree0(j).split_conditions[0] = 'x'), /trees\[0\]\.split_conditions\[0\] is not a finite number \("x"\)/],
    ['a missing array', (j: Mutable) => delete tree0(j).sum_hessian, /trees\[0\]\.sum_hessian is missing/],
    ['tree_info of another group', (j: Mutable) => (j.learner.gradient_booster.model.tree_info = [1]), /tree_info\[0\] is 1/],
    ['base_score outside (0, 1)', (j: Mutable) => (j.learner.learner_model_param.base_score = '1.5'), /base_score is 1\.5, but must be in \(0, 1\)/],
  ])('%s', (name, change, message) => {
    const path = write(`${name.replace(/\W+/g, '-')}.json`, mutated(change));
    const error = loadError(path);
    expect(error.message.startsWith(`${path}: `)).toBe(true);
    expect(error.message).toMatch(message);
    expect(error.source).toBe(path);
  });

  it('fromJSON names its source', () => {
    expect(() => XGBoostModel.fromJSON(mutated((j) => tree0(j).default_left.pop()), 's3://models/fraud.json')).toThrow(
      's3://models/fraud.json: trees[0].left_children has 5 entries but default_left has 4',
    );
  });
});
