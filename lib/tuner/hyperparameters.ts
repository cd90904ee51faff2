/**
 * Hyperparameters in the style of keras_tuner: a build function calls `hp.Int(...)`, `hp.Float(...)`,
 * `hp.Choice(...)` or `hp.Fixed(...)`. The same call both declares the hyperparameter (what values it may take)
 * and returns the value to use in the current trial.
 *
 * A fresh `new HyperParameters()` is in "declare" mode: each call records the hyperparameter and returns its
 * default (Int/Float: min, Choice: the first value). The tuner hands the build function a "trial" instance whose
 * values are already chosen; there, a name the tuner has never seen is an error, because it cannot be searched.
 */

/** A value a hyperparameter can take. */
export type HpValue = number | string | boolean;

export type Sampling = "linear" | "log";

export interface IntSpec {
  type: "int";
  name: string;
  min: number;
  max: number;
  step: number;
}

export interface FloatSpec {
  type: "float";
  name: string;
  min: number;
  max: number;
  /** Linear sampling: values min, min+step, ...; log sampling: min, min*step, min*step^2, ... */
  step?: number;
  sampling: Sampling;
}

export interface ChoiceSpec {
  type: "choice";
  name: string;
  values: HpValue[];
}

export interface FixedSpec {
  type: "fixed";
  name: string;
  value: HpValue;
}

export type HyperParameterSpec = IntSpec | FloatSpec | ChoiceSpec | FixedSpec;

export interface IntOptions {
  min: number;
  max: number;
  /** Distance between neighbouring values (default 1). */
  step?: number;
}

export interface FloatOptions {
  min: number;
  max: number;
  /** Without a step the range is continuous (RandomSearch only); with one, GridSearch can enumerate it. */
  step?: number;
  /** "log" spreads values evenly in orders of magnitude (good for learning rates); needs min > 0. */
  sampling?: Sampling;
}

/** Rounds away float noise such as 0.2 + 0.3 = 0.5000000000000001, so values print and compare cleanly. */
export function cleanFloat(x: number): number {
  return Number(x.toPrecision(12));
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== "string" || name.trim() === "") {
    throw new Error(`A hyperparameter needs a non-empty name, e.g. hp.Int("n_layers", {min: 1, max: 3}); got ${JSON.stringify(name)}.`);
  }
}

function checkRange(kind: string, name: string, min: number, max: number): void {
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    throw new Error(`hp.${kind}("${name}"): min and max must be finite numbers, got min=${min}, max=${max}.`);
  }
  if (min > max) {
    throw new Error(`hp.${kind}("${name}"): min (${min}) is larger than max (${max}); swap them.`);
  }
}

/** Builds and validates the spec of an Int hyperparameter. */
export function intSpec(name: string, opts: IntOptions): IntSpec {
  checkName(name);
  if (!opts || typeof opts !== "object") {
    throw new Error(`hp.Int("${name}") needs options: hp.Int("${name}", {min: 1, max: 3, step: 1}).`);
  }
  const step = opts.step ?? 1;
  checkRange("Int", name, opts.min, opts.max);
  for (const [key, v] of [["min", opts.min], ["max", opts.max], ["step", step]] as const) {
    if (!Number.isInteger(v)) throw new Error(`hp.Int("${name}"): ${key} must be a whole number, got ${v}. Use hp.Float for fractions.`);
  }
  if (step <= 0) throw new Error(`hp.Int("${name}"): step must be at least 1, got ${step}.`);
  return { type: "int", name, min: opts.min, max: opts.max, step };
}

/** Builds and validates the spec of a Float hyperparameter. */
export function floatSpec(name: string, opts: FloatOptions): FloatSpec {
  checkName(name);
  if (!opts || typeof opts !== "object") {
    throw new Error(`hp.Float("${name}") needs options: hp.Float("${name}", {min: 0.2, max: 0.8, step: 0.3}).`);
  }
  checkRange("Float", name, opts.min, opts.max);
  const sampling = opts.sampling ?? "linear";
  if (sampling !== "linear" && sampling !== "log") {
    throw new Error(`hp.Float("${name}"): sampling must be "linear" or "log", got ${JSON.stringify(sampling)}.`);
  }
  if (sampling === "log" && opts.min <= 0) {
    throw new Error(`hp.Float("${name}"): log sampling needs min > 0 (got ${opts.min}); e.g. {min: 1e-4, max: 1e-1, sampling: "log"}.`);
  }
  if (opts.step !== undefined) {
    if (!Number.isFinite(opts.step) || opts.step <= 0) {
      throw new Error(`hp.Float("${name}"): step must be a positive number, got ${opts.step}.`);
    }
    if (sampling === "log" && opts.step <= 1) {
      throw new Error(
        `hp.Float("${name}"): with log sampling the step is a factor (min, min*step, min*step^2, ...), so it must be > 1; got ${opts.step}.`,
      );
    }
  }
  const spec: FloatSpec = { type: "float", name, min: opts.min, max: opts.max, sampling };
  if (opts.step !== undefined) spec.step = opts.step;
  return spec;
}

/** Builds and validates the spec of a Choice hyperparameter. */
export function choiceSpec(name: string, values: readonly HpValue[]): ChoiceSpec {
  checkName(name);
  if (!Array.isArray(values) || values.length === 0) {
    throw new Error(`hp.Choice("${name}") needs a non-empty list of values, e.g. hp.Choice("${name}", ["relu", "tanh"]).`);
  }
  for (const v of values) {
    if (!isHpValue(v)) throw new Error(`hp.Choice("${name}"): values must be numbers, strings or booleans; got ${String(v)}.`);
  }
  if (new Set(values).size !== values.length) {
    throw new Error(`hp.Choice("${name}"): the values ${JSON.stringify(values)} contain duplicates; list each value once.`);
  }
  return { type: "choice", name, values: [...values] };
}

/** Builds and validates the spec of a Fixed hyperparameter. */
export function fixedSpec(name: string, value: HpValue): FixedSpec {
  checkName(name);
  if (!isHpValue(value)) throw new Error(`hp.Fixed("${name}"): the value must be a number, string or boolean; got ${String(value)}.`);
  return { type: "fixed", name, value };
}

export function isHpValue(v: unknown): v is HpValue {
  return (typeof v === "number" && Number.isFinite(v)) || typeof v === "string" || typeof v === "boolean";
}

/** The value a hyperparameter takes when nothing else has been chosen. */
export function defaultValue(spec: HyperParameterSpec): HpValue {
  switch (spec.type) {
    case "int":
    case "float":
      return spec.min;
    case "choice":
      return spec.values[0];
    case "fixed":
      return spec.value;
  }
}

/**
 * Every value GridSearch tries for one hyperparameter, in increasing order (Choice: in the order given).
 * A Float without a step is continuous and cannot be enumerated.
 */
export function gridValues(spec: HyperParameterSpec): HpValue[] {
  switch (spec.type) {
    case "int": {
      const out: number[] = [];
      for (let v = spec.min; v <= spec.max; v += spec.step) out.push(v);
      return out;
    }
    case "float": {
      if (spec.step === undefined) {
        throw new Error(
          `GridSearch cannot enumerate hp.Float("${spec.name}") without a step: give it one ` +
            `(e.g. {min: ${spec.min}, max: ${spec.max}, step: ...}), use hp.Choice with the values to try, or use RandomSearch.`,
        );
      }
      const out: number[] = [];
      // Tolerance so that e.g. 0.2 + 2*0.3 still counts as reaching max = 0.8.
      const tol = 1e-9 * Math.max(Math.abs(spec.max), 1);
      for (let k = 0; ; k++) {
        const v = spec.sampling === "log" ? spec.min * Math.pow(spec.step, k) : spec.min + k * spec.step;
        if (v > spec.max + tol) break;
        out.push(cleanFloat(v));
      }
      return out;
    }
    case "choice":
      return [...spec.values];
    case "fixed":
      return [spec.value];
  }
}

/** Whether `value` is one this hyperparameter may take. */
export function isAllowed(spec: HyperParameterSpec, value: HpValue): boolean {
  switch (spec.type) {
    case "int":
      return typeof value === "number" && gridValues(spec).includes(value);
    case "float":
      if (typeof value !== "number") return false;
      if (spec.step !== undefined) return gridValues(spec).includes(cleanFloat(value));
      return value >= spec.min && value <= spec.max;
    case "choice":
      return spec.values.includes(value);
    case "fixed":
      return value === spec.value;
  }
}

/** Short human description, e.g. `Float [0.2 .. 0.8] step 0.3`. */
export function describeSpec(spec: HyperParameterSpec): string {
  switch (spec.type) {
    case "int":
      return `Int [${spec.min} .. ${spec.max}] step ${spec.step}`;
    case "float":
      return (
        `Float [${spec.min} .. ${spec.max}]` +
        (spec.step !== undefined ? (spec.sampling === "log" ? ` x${spec.step}` : ` step ${spec.step}`) : "") +
        (spec.sampling === "log" ? " log" : "")
      );
    case "choice":
      return `Choice ${JSON.stringify(spec.values)}`;
    case "fixed":
      return `Fixed ${JSON.stringify(spec.value)}`;
  }
}

function sameSpec(a: HyperParameterSpec, b: HyperParameterSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The search space and the current values. Keras-style method names (Int, Float, Choice, Fixed) on purpose,
 * so the lesson code reads like the keras_tuner code learners will meet elsewhere.
 */
export class HyperParameters {
  private readonly specs = new Map<string, HyperParameterSpec>();
  private readonly current = new Map<string, HpValue>();
  /** When true, declaring a name that is not in the space is an error (inside a tuner trial). */
  private frozen = false;

  /** A trial's hyperparameters: the given space with the given values; new names are refused. */
  static forTrial(space: readonly HyperParameterSpec[], values: Readonly<Record<string, HpValue>>): HyperParameters {
    const hp = new HyperParameters();
    for (const spec of space) hp.specs.set(spec.name, spec);
    for (const spec of space) {
      const v = values[spec.name];
      if (v === undefined) throw new Error(`Internal error: no value for hyperparameter "${spec.name}".`);
      hp.current.set(spec.name, v);
    }
    hp.frozen = true;
    return hp;
  }

  /** An integer from min to max (both included), in steps of `step` (default 1). */
  Int(name: string, opts: IntOptions): number {
    return this.declare(intSpec(name, opts)) as number;
  }

  /** A number from min to max; with `step` only min, min+step, ... (or min*step^k with log sampling). */
  Float(name: string, opts: FloatOptions): number {
    return this.declare(floatSpec(name, opts)) as number;
  }

  /** One of the listed values. */
  Choice<T extends HpValue>(name: string, values: readonly T[]): T {
    return this.declare(choiceSpec(name, values)) as T;
  }

  /** A constant that is recorded with the trial's results but never varied. */
  Fixed<T extends HpValue>(name: string, value: T): T {
    return this.declare(fixedSpec(name, value)) as T;
  }

  /** The current value of a declared hyperparameter. */
  get(name: string): HpValue {
    const v = this.current.get(name);
    if (v === undefined) {
      const known = [...this.specs.keys()];
      throw new Error(
        `Unknown hyperparameter "${name}". ` +
          (known.length ? `Declared ones: ${known.join(", ")}.` : "None is declared yet: call hp.Int/hp.Float/hp.Choice first."),
      );
    }
    return v;
  }

  /** Whether `name` has been declared. */
  has(name: string): boolean {
    return this.specs.has(name);
  }

  /** The declared hyperparameters, in declaration order. */
  get space(): HyperParameterSpec[] {
    return [...this.specs.values()];
  }

  /** The current values by name, in declaration order. */
  get values(): Record<string, HpValue> {
    const out: Record<string, HpValue> = {};
    for (const [k, v] of this.current) out[k] = v;
    return out;
  }

  private declare(spec: HyperParameterSpec): HpValue {
    const existing = this.specs.get(spec.name);
    if (existing) {
      if (!sameSpec(existing, spec)) {
        throw new Error(
          `Hyperparameter "${spec.name}" was declared twice with different settings: ` +
            `${describeSpec(existing)} and ${describeSpec(spec)}. Give each hyperparameter one name and one definition.`,
        );
      }
      return this.get(spec.name);
    }
    if (this.frozen) {
      throw new Error(
        `The build function declared hyperparameter "${spec.name}", which it did not declare when the tuner first ` +
          `called it to discover the search space. Declare every hyperparameter on every call, at the top of the ` +
          `build function (not inside an if or a loop whose length depends on another hyperparameter).`,
      );
    }
    this.specs.set(spec.name, spec);
    this.current.set(spec.name, defaultValue(spec));
    return this.get(spec.name);
  }
}
