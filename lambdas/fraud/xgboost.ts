/**
 * A pure-TypeScript evaluator for XGBoost models saved with `Booster.save_model('model.json')` (the JSON
 * schema of xgboost 1.7; 2.x files of the same shape load too). It serves the fraud model in the Lambda
 * without Python, at a few µs per row instead of xgboost's ~190 µs single-row predict.
 *
 * Semantics, matching xgboost's CPU predictor:
 *  - a node is a leaf when `left_children[n] == -1`; its value is `split_conditions[n]`;
 *  - go left when `float32(x) < split_conditions[n]`, right otherwise (so `x == cond` goes right);
 *  - a missing value (NaN; `undefined` and `null` too, because JSON turns NaN into null) follows `default_left`;
 *  - the margin is accumulated in float32 in tree order, starting from the base score (converted to a margin
 *    with logit for the logistic objectives), and the probability is xgboost's float32 sigmoid of it.
 *
 * `contributions(row)` gives Saabas path attributions in margin space, identical to xgboost's
 * `predict(pred_contribs=True, approx_contribs=True)`: each node's expected value is the cover-weighted mean of
 * its children, recursively from the leaf values (`(E[left]·H[left] + E[right]·H[right]) / H[node]` with H the
 * `sum_hessian`, in float32, as xgboost's FillNodeMeanValues). `base_weights` do NOT work for this: leaf
 * base_weights are not scaled by the learning rate, so they disagree with the leaf values.
 *
 * Supported: gbtree (num_parallel_tree ≥ 1) with binary:logistic, reg:logistic, binary:logitraw or
 * reg:squarederror, one output, numerical splits. Anything else (gblinear, dart, multi-class or multi-target,
 * categorical splits, other objectives) is rejected with an error that names the file and the unsupported thing.
 *
 * Speed (margin/predict): every tree of depth ≤ `maxCompleteDepth` (default 12) is padded into a complete binary
 * tree in an implicit layout (children of i at 2i+1, 2i+2; a leaf above the bottom level is replicated below it),
 * so a row walks a fixed number of levels with no child-pointer loads and a branch-free step. Missing values need
 * no test either: the row is stored twice, with NaN as -Infinity in the first copy and +Infinity in the second,
 * and each node reads the copy that sends a missing value its default way (-Inf < cond: left; +Inf: right; a real
 * ±Infinity compares the same in both copies, as in xgboost). Deeper trees keep a pointer layout.
 *
 * All trees in the file are evaluated, like `Booster.predict` with its default iteration_range. A model trained
 * with early stopping should be sliced to `booster[:best_iteration + 1]` before saving (sklearn's predict would
 * otherwise use best_iteration while this evaluator uses every tree); `bestIteration` exposes the attribute.
 */
import { readFileSync } from 'node:fs';

/** An unreadable, malformed or unsupported model file. The message starts with the file (or source) name. */
export class XGBoostModelError extends Error {
  constructor(
    readonly source: string,
    readonly detail: string,
  ) {
    super(`${source}: ${detail}`);
    this.name = 'XGBoostModelError';
  }
}

type Link = 'logistic' | 'identity';

const OBJECTIVES: Readonly<Record<string, { link: Link; logitBase: boolean }>> = {
  'binary:logistic': { link: 'logistic', logitBase: true },
  'reg:logistic': { link: 'logistic', logitBase: true },
  'binary:logitraw': { link: 'identity', logitBase: true },
  'reg:squarederror': { link: 'identity', logitBase: false },
};

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The float32 sigmoid of xgboost 1.7 (common::Sigmoid): 1 / (1 + expf(min(-x, 88.7))). */
function sigmoid32(margin: number): number {
  const e = Math.fround(Math.exp(Math.min(-margin, 88.7)));
  return Math.fround(1 / Math.fround(e + 1));
}

/** Reads and validates the JSON of one model; every error names the source and the offending path. */
class Reader {
  constructor(readonly source: string) {}

  fail(detail: string): never {
    throw new XGBoostModelError(this.source, detail);
  }

  object(parent: Json, key: string, path: string): Json {
    const value = parent[key];
    if (!isObject(value)) this.fail(`${path}.${key} is ${value === undefined ? 'missing' : 'not an object'}`);
    return value;
  }

  array(parent: Json, key: string, path: string): unknown[] {
    const value = parent[key];
    if (!Array.isArray(value)) this.fail(`${path}.${key} is ${value === undefined ? 'missing' : 'not an array'}`);
    return value;
  }

  /** An integer stored as a JSON number or, as xgboost writes parameters, a decimal string. */
  intParam(parent: Json, key: string, path: string, fallback?: number): number {
    const raw = parent[key];
    if (raw === undefined && fallback !== undefined) return fallback;
    const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isInteger(value)) this.fail(`${path}.${key} is not an integer (${JSON.stringify(raw)})`);
    return value;
  }

  numbers(tree: Json, key: string, path: string, integer: boolean): number[] {
    const values = this.array(tree, key, path);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
        this.fail(`${path}.${key}[${i}] is not ${integer ? 'an integer' : 'a finite number'} (${JSON.stringify(v)})`);
      }
    }
    return values as number[];
  }
}

/** Options for loading; the defaults suit every model. */
export interface XGBoostLoadOptions {
  /** Trees up to this depth use the padded complete layout; deeper ones the pointer layout (0: pointers only). */
  readonly maxCompleteDepth?: number;
}

/** The padded complete layout of the trees that fit it (see the header). */
interface CompleteTrees {
  /**
   * Per tree: its depth (-1: a pointer tree), the offset of its nodes in `slot`/`threshold`, and the offset that
   * turns a bottom-level position (2^depth - 1 …) into an index of `leaf`.
   */
  depth: Int32Array;
  nodeBase: Int32Array;
  leafBase: Int32Array;
  /** Index into the doubled row: the feature, plus numFeatures when a missing value goes right. */
  slot: Int32Array;
  threshold: Float64Array;
  leaf: Float64Array;
}

interface CompiledTrees {
  roots: Int32Array;
  left: Int32Array;
  right: Int32Array;
  feature: Int32Array;
  /** feature + (default_left ? 0 : numFeatures): the slot of the doubled row this node reads. */
  slot: Int32Array;
  /** Split threshold of an internal node, value of a leaf (float32). */
  value: Float32Array;
  /** Expected (cover-weighted mean) value of every node, for Saabas contributions (float32). */
  mean: Float32Array;
}

export class XGBoostModel {
  /** Where the model came from (the file path, or the source given to fromJSON). */
  readonly source: string;
  readonly objective: string;
  readonly featureNames?: readonly string[];
  readonly numFeatures: number;
  readonly numTrees: number;
  readonly numNodes: number;
  /** The base score as a margin (float32): logit(base_score) for the logistic objectives. */
  readonly baseMargin: number;
  /** learner.attributes.best_iteration when the file carries it; all trees are evaluated regardless. */
  readonly bestIteration?: number;

  private readonly link: Link;
  private readonly trees: CompiledTrees;
  private readonly complete: CompleteTrees;
  /**
   * The current row, float32 values stored twice: [0, n) with missing = -Infinity, [n, 2n) with missing =
   * +Infinity. One conversion per row, then only typed-array reads.
   */
  private readonly x: Float64Array;
  private readonly treeContribs: Float32Array;
  private readonly totals: Float32Array;
  private readonly path: Int32Array;

  private constructor(source: string, json: unknown, options: XGBoostLoadOptions) {
    this.source = source;
    const r: Reader = new Reader(source); // the annotation lets r.fail() (never) narrow types
    if (!isObject(json)) r.fail('not an XGBoost JSON model (the top level is not an object)');
    const learner = r.object(json, 'learner', '(model)');
    const booster = r.object(learner, 'gradient_booster', 'learner');
    const boosterName = booster.name;
    if (boosterName !== 'gbtree') {
      r.fail(`gradient booster ${JSON.stringify(boosterName)} is not supported (only gbtree; not gblinear or dart)`);
    }
    const objective = r.object(learner, 'objective', 'learner').name;
    if (typeof objective !== 'string') r.fail('learner.objective.name is missing');
    const spec = OBJECTIVES[objective];
    if (!spec) r.fail(`objective ${JSON.stringify(objective)} is not supported (supported: ${Object.keys(OBJECTIVES).join(', ')})`);
    this.objective = objective;
    this.link = spec.link;

    const param = r.object(learner, 'learner_model_param', 'learner');
    const numClass = r.intParam(param, 'num_class', 'learner.learner_model_param', 0);
    if (numClass > 1) r.fail(`multi-class models are not supported (num_class=${numClass})`);
    const numTarget = r.intParam(param, 'num_target', 'learner.learner_model_param', 1);
    if (numTarget > 1) r.fail(`multi-target models are not supported (num_target=${numTarget})`);
    const numFeatures = r.intParam(param, 'num_feature', 'learner.learner_model_param');
    if (numFeatures < 1) r.fail(`learner.learner_model_param.num_feature must be ≥ 1 (${numFeatures})`);
    this.numFeatures = numFeatures;
    this.baseMargin = this.readBaseMargin(r, param.base_score, spec.logitBase);

    const names = learner.feature_names;
    if (names !== undefined && !(Array.isArray(names) && names.length === 0)) {
      if (!Array.isArray(names) || names.length !== numFeatures || names.some((n) => typeof n !== 'string')) {
        r.fail(`learner.feature_names must be ${numFeatures} strings (num_feature)`);
      }
      this.featureNames = Object.freeze([...(names as string[])]);
    }
    const attributes = learner.attributes;
    if (isObject(attributes) && attributes.best_iteration !== undefined) {
      this.bestIteration = r.intParam(attributes, 'best_iteration', 'learner.attributes');
    }

    const model = r.object(booster, 'model', 'learner.gradient_booster');
    const trees = r.array(model, 'trees', 'gradient_booster.model');
    const treeInfo = r.array(model, 'tree_info', 'gradient_booster.model');
    if (treeInfo.length !== trees.length) r.fail(`tree_info has ${treeInfo.length} entries but trees has ${trees.length}`);
    const group = treeInfo.findIndex((g) => g !== 0);
    if (group !== -1) r.fail(`tree_info[${group}] is ${JSON.stringify(treeInfo[group])}: only one output group (0) is supported`);
    if (isObject(model.gbtree_model_param)) {
      const declared = r.intParam(model.gbtree_model_param, 'num_trees', 'gradient_booster.model.gbtree_model_param', trees.length);
      if (declared !== trees.length) r.fail(`gbtree_model_param.num_trees is ${declared} but trees has ${trees.length}`);
    }
    this.numTrees = trees.length;
    this.trees = XGBoostModel.compile(r, trees, numFeatures);
    this.numNodes = this.trees.left.length;
    const maxCompleteDepth = options.maxCompleteDepth ?? 12;
    if (!Number.isInteger(maxCompleteDepth) || maxCompleteDepth < 0 || maxCompleteDepth > 20) {
      throw new RangeError(`maxCompleteDepth must be an integer in [0, 20] (${maxCompleteDepth})`);
    }
    this.complete = XGBoostModel.pad(this.trees, maxCompleteDepth);
    this.x = new Float64Array(2 * numFeatures);
    this.path = new Int32Array(this.numNodes + 1);
    this.treeContribs = new Float32Array(numFeatures + 1);
    this.totals = new Float32Array(numFeatures + 1);
  }

  /** Loads a model file written by `Booster.save_model('model.json')`. */
  static fromFile(path: string, options: XGBoostLoadOptions = {}): XGBoostModel {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new XGBoostModelError(path, `cannot read the model file (${(error as Error).message})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      const hint = /\.(ubj|bin|model|deprecated)$/i.test(path) ? '; save the model as JSON with save_model("model.json")' : '';
      throw new XGBoostModelError(path, `not valid JSON (${(error as Error).message})${hint}`);
    }
    return new XGBoostModel(path, json, options);
  }

  /** Builds a model from an already parsed JSON document; `source` names it in error messages. */
  static fromJSON(json: unknown, source = '<memory>', options: XGBoostLoadOptions = {}): XGBoostModel {
    return new XGBoostModel(source, json, options);
  }

  /** The raw score (log-odds for the logistic objectives), float32 like xgboost's output_margin=True. */
  margin(row: ArrayLike<number>): number {
    this.load(row);
    return this.sumTrees();
  }

  /** The prediction: a probability for the logistic objectives, the margin otherwise. */
  predict(row: ArrayLike<number>): number {
    this.load(row);
    const margin = this.sumTrees();
    return this.link === 'logistic' ? sigmoid32(margin) : margin;
  }

  predictBatch(rows: readonly ArrayLike<number>[]): Float64Array {
    const out = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = this.predict(rows[i]);
    return out;
  }

  /**
   * Saabas path contributions in margin space: numFeatures entries, then the bias (the base margin plus every
   * tree's root expected value). They sum to the margin (up to float32 rounding). Equal to xgboost's
   * pred_contribs=True, approx_contribs=True.
   */
  contributions(row: ArrayLike<number>): Float64Array {
    this.load(row);
    const { roots, left, right, feature, slot, value, mean } = this.trees;
    const x = this.x;
    const bias = this.numFeatures;
    const tc = this.treeContribs;
    const totals = this.totals;
    const path = this.path;
    totals.fill(0);
    for (let t = 0; t < roots.length; t++) {
      // As xgboost: a per-tree float32 vector (tc; only the bias and the path's features are non-zero), then added
      // into the float32 totals. The bias gets E[root] (tc[bias] would be exactly that).
      let n = roots[t];
      let nodeValue = mean[n];
      totals[bias] += nodeValue;
      let split = -1;
      let depth = 0;
      while (left[n] !== -1) {
        split = feature[n];
        path[depth++] = split;
        n = x[slot[n]] < value[n] ? left[n] : right[n];
        const next = mean[n];
        tc[split] += Math.fround(next - nodeValue); // a float32 difference, then a float32 add
        nodeValue = next;
      }
      if (split !== -1) tc[split] += Math.fround(value[n] - nodeValue);
      for (let k = 0; k < depth; k++) {
        const f = path[k];
        if (tc[f] !== 0) {
          totals[f] += tc[f];
          tc[f] = 0;
        }
      }
    }
    totals[bias] += this.baseMargin;
    return Float64Array.from(totals);
  }

  private load(row: ArrayLike<number>): void {
    const n = this.numFeatures;
    if (row.length !== n) {
      throw new RangeError(`${this.source}: a row must have ${n} features (num_feature), got ${row.length}`);
    }
    const x = this.x;
    for (let i = 0; i < n; i++) {
      const v = row[i] as number | null | undefined;
      if (v == null || v !== v) {
        x[i] = -Infinity; // read by nodes whose missing value goes left
        x[i + n] = Infinity; // … and goes right
      } else {
        const f = Math.fround(v); // xgboost compares float32 values
        x[i] = f;
        x[i + n] = f;
      }
    }
  }

  private sumTrees(): number {
    const { depth, nodeBase, leafBase, slot, threshold, leaf } = this.complete;
    const x = this.x;
    let sum = this.baseMargin;
    for (let t = 0; t < depth.length; t++) {
      const d = depth[t];
      let value: number;
      if (d >= 0) {
        const base = nodeBase[t];
        let i = 0;
        // Left child 2i+1, right 2i+2; the comparison as a number keeps the step branch-free.
        for (let k = 0; k < d; k++) i = 2 * i + 2 - +(x[slot[base + i]] < threshold[base + i]);
        value = leaf[leafBase[t] + i];
      } else {
        value = this.pointerTree(t);
      }
      sum = Math.fround(sum + value); // float32 accumulation, as xgboost's prediction buffer
    }
    return sum;
  }

  /** The leaf value of tree t for the loaded row, through the child pointers. */
  private pointerTree(t: number): number {
    const { roots, left, right, slot, value } = this.trees;
    const x = this.x;
    let n = roots[t];
    while (left[n] !== -1) n = x[slot[n]] < value[n] ? left[n] : right[n];
    return value[n];
  }

  private readBaseMargin(r: Reader, raw: unknown, logit: boolean): number {
    const path = 'learner.learner_model_param.base_score';
    let text = raw;
    // xgboost ≥ 2.1 writes a vector, "[5E-1]".
    if (typeof text === 'string' && text.startsWith('[') && text.endsWith(']')) {
      const parts = text.slice(1, -1).split(',');
      if (parts.length !== 1) r.fail(`${path} has ${parts.length} values; only one output is supported`);
      text = parts[0];
    }
    const base = typeof text === 'string' && text.trim() !== '' ? Number(text) : typeof text === 'number' ? text : NaN;
    if (!Number.isFinite(base)) r.fail(`${path} is not a number (${JSON.stringify(raw)})`);
    if (!logit) return Math.fround(base);
    if (!(base > 0 && base < 1)) r.fail(`${path} is ${base}, but must be in (0, 1) for a logistic objective`);
    // ProbToMargin in float32: -logf(1.0f / base_score - 1.0f).
    const b = Math.fround(base);
    return Math.fround(-Math.log(Math.fround(Math.fround(1 / b) - 1)));
  }

  private static compile(r: Reader, trees: unknown[], numFeatures: number): CompiledTrees {
    const parsed = trees.map((tree, t) => {
      const path = `trees[${t}]`;
      if (!isObject(tree)) r.fail(`${path} is not an object`);
      const leftChildren = r.numbers(tree, 'left_children', path, true);
      const rightChildren = r.numbers(tree, 'right_children', path, true);
      const splitIndices = r.numbers(tree, 'split_indices', path, true);
      const conditions = r.numbers(tree, 'split_conditions', path, false);
      const hessians = r.numbers(tree, 'sum_hessian', path, false);
      const rawDefault = r.array(tree, 'default_left', path);
      const n = leftChildren.length;
      if (n === 0) r.fail(`${path} has no nodes`);
      const lengths: [string, number][] = [
        ['right_children', rightChildren.length],
        ['split_indices', splitIndices.length],
        ['split_conditions', conditions.length],
        ['default_left', rawDefault.length],
        ['sum_hessian', hessians.length],
      ];
      for (const key of ['base_weights', 'split_type'] as const) {
        if (tree[key] !== undefined) lengths.push([key, r.array(tree, key, path).length]);
      }
      for (const [key, length] of lengths) {
        if (length !== n) r.fail(`${path}.left_children has ${n} entries but ${key} has ${length}`);
      }
      if (isObject(tree.tree_param)) {
        const declared = r.intParam(tree.tree_param, 'num_nodes', `${path}.tree_param`, n);
        if (declared !== n) r.fail(`${path}.tree_param.num_nodes is ${declared} but left_children has ${n} entries`);
      }
      const splitType = tree.split_type as unknown[] | undefined;
      const categorical = splitType?.findIndex((s) => s !== 0) ?? -1;
      const categories = tree.categories;
      if (categorical !== -1 || (Array.isArray(categories) && categories.length > 0)) {
        r.fail(`${path} has categorical splits${categorical !== -1 ? ` (node ${categorical})` : ''}, which are not supported`);
      }
      const defaults = rawDefault.map((d, i) => {
        if (d === 0 || d === 1 || d === true || d === false) return d === 1 || d === true;
        return r.fail(`${path}.default_left[${i}] is not 0/1 (${JSON.stringify(d)})`);
      });
      // Internal nodes: both children in range, a valid feature. Then walk from the root: every reachable node is
      // reached once (a tree, so evaluation always terminates). Unreachable (deleted) nodes are ignored.
      for (let i = 0; i < n; i++) {
        const [a, b] = [leftChildren[i], rightChildren[i]];
        if ((a === -1) !== (b === -1)) r.fail(`${path} node ${i} has left child ${a} but right child ${b}`);
        if (a === -1) continue;
        if (a < 0 || a >= n || b < 0 || b >= n) r.fail(`${path} node ${i} has a child out of range (${a}, ${b}; ${n} nodes)`);
        if (splitIndices[i] < 0 || splitIndices[i] >= numFeatures) {
          r.fail(`${path}.split_indices[${i}] is ${splitIndices[i]}, outside the ${numFeatures} features`);
        }
      }
      const seen = new Uint8Array(n);
      const stack = [0];
      while (stack.length > 0) {
        const i = stack.pop() as number;
        if (seen[i]) r.fail(`${path} is not a tree: node ${i} is reached twice`);
        seen[i] = 1;
        if (leftChildren[i] !== -1) stack.push(leftChildren[i], rightChildren[i]);
      }
      return { leftChildren, rightChildren, splitIndices, conditions, hessians, defaults };
    });

    const total = parsed.reduce((s, p) => s + p.leftChildren.length, 0);
    const out: CompiledTrees = {
      roots: new Int32Array(parsed.length),
      left: new Int32Array(total),
      right: new Int32Array(total),
      feature: new Int32Array(total),
      slot: new Int32Array(total),
      value: new Float32Array(total),
      mean: new Float32Array(total),
    };
    let offset = 0;
    parsed.forEach((p, t) => {
      out.roots[t] = offset;
      for (let i = 0; i < p.leftChildren.length; i++) {
        const g = offset + i;
        const leaf = p.leftChildren[i] === -1;
        out.left[g] = leaf ? -1 : offset + p.leftChildren[i];
        out.right[g] = leaf ? -1 : offset + p.rightChildren[i];
        out.feature[g] = leaf ? 0 : p.splitIndices[i];
        out.slot[g] = leaf ? 0 : p.splitIndices[i] + (p.defaults[i] ? 0 : numFeatures);
        out.value[g] = p.conditions[i];
      }
      XGBoostModel.fillMeans(out, offset, Float32Array.from(p.hessians));
      offset += p.leftChildren.length;
    });
    return out;
  }

  /** The padded complete layout of every tree of depth ≤ maxDepth (others get depth -1: pointer layout). */
  private static pad(trees: CompiledTrees, maxDepth: number): CompleteTrees {
    const { roots, left, right, slot, value } = trees;
    const depthOf = (g: number): number => (left[g] === -1 ? 0 : 1 + Math.max(depthOf(left[g]), depthOf(right[g])));
    const count = roots.length;
    const out: CompleteTrees = {
      depth: new Int32Array(count),
      nodeBase: new Int32Array(count),
      leafBase: new Int32Array(count),
      slot: new Int32Array(0),
      threshold: new Float64Array(0),
      leaf: new Float64Array(0),
    };
    let nodes = 0;
    let leaves = 0;
    for (let t = 0; t < count; t++) {
      const d = depthOf(roots[t]);
      out.depth[t] = d <= maxDepth ? d : -1;
      out.nodeBase[t] = nodes;
      out.leafBase[t] = leaves - ((1 << Math.min(d, maxDepth)) - 1); // so that leaf[leafBase + position] is the leaf
      if (d <= maxDepth) {
        nodes += (1 << d) - 1;
        leaves += 1 << d;
      }
    }
    out.slot = new Int32Array(nodes);
    out.threshold = new Float64Array(nodes);
    out.leaf = new Float64Array(leaves);
    for (let t = 0; t < count; t++) {
      const d = out.depth[t];
      if (d < 0) continue;
      // Position `pos` of the complete tree holds node g; a leaf above the bottom fills its whole subtree, so
      // whichever way the (dummy) splits below it go, the walk ends on its value.
      const fill = (g: number, pos: number, level: number): void => {
        if (level === d) {
          out.leaf[out.leafBase[t] + pos] = value[g];
          return;
        }
        const isLeaf = left[g] === -1;
        out.slot[out.nodeBase[t] + pos] = isLeaf ? 0 : slot[g];
        out.threshold[out.nodeBase[t] + pos] = isLeaf ? 0 : value[g];
        fill(isLeaf ? g : left[g], 2 * pos + 1, level + 1);
        fill(isLeaf ? g : right[g], 2 * pos + 2, level + 1);
      };
      fill(roots[t], 0, 0);
    }
    return out;
  }

  /** xgboost's FillNodeMeanValues, in float32: a leaf's value, else (E[l]·H[l] + E[r]·H[r]) / H[node]. */
  private static fillMeans(trees: CompiledTrees, offset: number, hess: Float32Array): void {
    const { left, right, value, mean } = trees;
    const f = Math.fround;
    // Post-order without recursion: children before parents.
    const order: number[] = [];
    const stack = [offset];
    while (stack.length > 0) {
      const g = stack.pop() as number;
      order.push(g);
      if (left[g] !== -1) stack.push(left[g], right[g]);
    }
    for (let k = order.length - 1; k >= 0; k--) {
      const g = order[k];
      if (left[g] === -1) {
        mean[g] = value[g];
        continue;
      }
      const [l, r] = [left[g], right[g]];
      const sum = f(f(mean[l] * hess[l - offset]) + f(mean[r] * hess[r - offset]));
      mean[g] = sum / hess[g - offset];
    }
  }
}
