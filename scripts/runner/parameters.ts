/**
 * Lesson parameters, papermill style: the cell tagged `parameters` declares `let NAME = value;`, and the runner
 * injects a cell tagged `injected-parameters` after it that reassigns the chosen ones.
 */
import { randomUUID } from "crypto";
import { type CodeCell, hasTag, type Notebook, sourceText } from "./nbformat";

export type ParameterValue = number | boolean | string | ParameterValue[];

/** The type of a parameter, from its annotation or the literal it is declared with. */
export type ParameterType = "number" | "string" | "boolean" | "array" | "unknown";

/** `-p NAME=value`: numbers and true/false are typed, anything else is a string. Infinite numbers are refused. */
export function parseParameterArg(arg: string): [string, ParameterValue] {
  const eq = arg.indexOf("=");
  if (eq <= 0) throw new Error(`Bad parameter "${arg}": write it as NAME=value, e.g. -p EPOCHS=2`);
  const name = arg.slice(0, eq).trim();
  const raw = arg.slice(eq + 1).trim();
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new Error(`Bad parameter name "${name}" in "${arg}"`);
  if (raw === "true" || raw === "false") return [name, raw === "true"];
  if (raw !== "" && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(raw)) {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Error(`Bad parameter "${arg}": ${raw} is too large to be a number (not finite).`);
    return [name, n];
  }
  return [name, raw];
}

export interface DeclaredParameters {
  /** Index of the `parameters` cell in notebook.cells. */
  cellIndex: number;
  /** Names declared with `let` (or `var`). */
  names: Set<string>;
  /** Names declared with `const` (cannot be overridden). */
  constants: Set<string>;
  /** The type of each `let` name. */
  types: Map<string, ParameterType>;
  /** The declaration as written, for messages (`let EPOCHS = 10`). */
  declarations: Map<string, string>;
}

function typeOf(annotation: string | undefined, init: string): ParameterType {
  const t = annotation?.trim();
  if (t) {
    if (/^(number|string|boolean)$/.test(t)) return t as ParameterType;
    if (/\[\]$|^Array</.test(t)) return "array";
    return "unknown";
  }
  if (/^[-+]?(\d|\.\d)/.test(init)) return "number";
  if (/^["'`]/.test(init)) return "string";
  if (/^(true|false)\b/.test(init)) return "boolean";
  if (init.startsWith("[")) return "array";
  return "unknown";
}

export function findParameters(nb: Notebook): DeclaredParameters | undefined {
  const cellIndex = nb.cells.findIndex((c) => c.cell_type === "code" && hasTag(c, "parameters"));
  if (cellIndex < 0) return undefined;
  const names = new Set<string>();
  const constants = new Set<string>();
  const types = new Map<string, ParameterType>();
  const declarations = new Map<string, string>();
  const decl = /^\s*(let|var|const)\s+([A-Za-z_$][\w$]*)\s*(?::([^=]+))?=\s*([^;\n]*)/gm;
  for (const m of sourceText(nb.cells[cellIndex]!.source).matchAll(decl)) {
    const name = m[2]!;
    if (m[1] === "const") {
      constants.add(name);
      continue;
    }
    names.add(name);
    types.set(name, typeOf(m[3], m[4]!.trim()));
    declarations.set(name, m[0].trim().replace(/\s*\/\/.*$/, ""));
  }
  return { cellIndex, names, constants, types, declarations };
}

/** The values to inject: `metadata.lessons.fast_parameters` when `fast`, overridden by `overrides`. */
export function chooseParameters(
  nb: Notebook,
  fast: boolean,
  overrides: Record<string, ParameterValue>,
): Record<string, ParameterValue> {
  const fastParams = fast ? (nb.metadata.lessons?.fast_parameters ?? {}) : {};
  return { ...(fastParams as Record<string, ParameterValue>), ...overrides };
}

/**
 * Returns a copy of `nb` with the injected-parameters cell, or `nb` itself when there is nothing to inject.
 * Throws when a name is not declared with `let` in the parameters cell.
 */
export function injectParameters(nb: Notebook, values: Record<string, ParameterValue>): Notebook {
  const names = Object.keys(values);
  if (names.length === 0) return nb;
  const declared = findParameters(nb);
  if (!declared) {
    throw new Error(
      `Parameters ${names.join(", ")} were given, but the notebook has no code cell tagged "parameters". ` +
        `Tag the cell that declares the sizes (let NAME = value;) with "parameters".`,
    );
  }
  for (const name of names) {
    if (declared.constants.has(name)) {
      throw new Error(`Parameter ${name} is declared with const in the parameters cell; declare it with let.`);
    }
    if (!declared.names.has(name)) {
      throw new Error(
        `Unknown parameter ${name}: the parameters cell declares ${[...declared.names].join(", ") || "nothing"}.`,
      );
    }
  }
  // A block, so that tslab does not echo the value of the last assignment.
  const lines = [
    "// Injected by the notebook runner (--fast / -p).\n",
    "{\n",
    ...names.map((n) => `  ${n} = ${JSON.stringify(values[n])};\n`),
    "}\n",
  ];
  const cell: CodeCell = {
    cell_type: "code",
    metadata: { tags: ["injected-parameters"] },
    source: lines,
    outputs: [],
    execution_count: null,
  };
  if (nb.nbformat_minor >= 5) cell.id = randomUUID().slice(0, 8);
  const cells = [...nb.cells];
  cells.splice(declared.cellIndex + 1, 0, cell);
  return { ...nb, cells };
}

function describe(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

function checkArray(value: unknown[], what: string): ParameterValue[] {
  for (const v of value) {
    if (typeof v === "number" && !Number.isFinite(v)) throw new Error(`${what}: ${v} is not a finite number.`);
    if (!["number", "string", "boolean"].includes(typeof v) && !Array.isArray(v)) throw new Error(`${what}: ${describe(v)} is not a number, text or true/false.`);
  }
  return value as ParameterValue[];
}

/**
 * `value` as the declared type wants it, or an error that says what was expected: text parameters take any value
 * as text (`-p LABEL=3` is "3"), arrays are written as JSON (`-p RATES=[0.2,0.5]`), numbers must be finite.
 */
export function coerceParameter(name: string, value: unknown, declared: DeclaredParameters, where: string): ParameterValue {
  const type = declared.types.get(name) ?? "unknown";
  const what = `${where}: ${name} (declared \`${declared.declarations.get(name) ?? name}\`)`;
  if (typeof value === "number" && !Number.isFinite(value)) throw new Error(`${what}: ${value} is not a finite number.`);
  switch (type) {
    case "number":
      if (typeof value !== "number") throw new Error(`${what} is a number, but got ${describe(value)}.`);
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw new Error(`${what} is true or false, but got ${describe(value)}.`);
      return value;
    case "string":
      if (typeof value === "string") return value;
      if (typeof value === "number" || typeof value === "boolean") return String(value);
      throw new Error(`${what} is text, but got ${describe(value)}.`);
    case "array": {
      let v = value;
      if (typeof v === "string") {
        try {
          v = JSON.parse(v);
        } catch {
          throw new Error(`${what} is a list: write it as JSON, e.g. ${name}=[0.2,0.5]; got ${describe(value)}.`);
        }
      }
      if (!Array.isArray(v)) throw new Error(`${what} is a list: write it as JSON, e.g. ${name}=[0.2,0.5]; got ${describe(value)}.`);
      return checkArray(v, what);
    }
    default:
      if (Array.isArray(value)) return checkArray(value, what);
      if (!["number", "string", "boolean"].includes(typeof value)) throw new Error(`${what}: ${describe(value)} is not a number, text or true/false.`);
      return value as ParameterValue;
  }
}

export type SizeMode = "full" | "fast" | "course";

export interface PlannedNotebook {
  file: string;
  nb: Notebook;
}

export interface ParameterPlan {
  /** The values to inject, per notebook file. */
  values: Map<string, Record<string, ParameterValue>>;
  /** Lines to print before the run (what was not applied where, and why). */
  notes: string[];
}

const METADATA_KEY = { fast: "fast_parameters", course: "course_parameters" } as const;

/**
 * Chooses and checks every notebook's parameters before any kernel starts. `--fast`/`--course` take each
 * notebook's metadata lessons.fast_parameters/course_parameters; `-p NAME=value` applies to the notebooks whose
 * parameters cell declares NAME and wins over both. Errors (all of them, one per line): a `-p` name or `--course`
 * that no selected notebook can take, a value of the wrong type, metadata naming an undeclared parameter.
 * A notebook without a parameters cell (00-setup-check) runs as it is, with a note when something was skipped.
 */
export function planParameters(notebooks: PlannedNotebook[], mode: SizeMode, overrides: Record<string, ParameterValue>): ParameterPlan {
  const values = new Map<string, Record<string, ParameterValue>>();
  const notes: string[] = [];
  const errors: string[] = [];
  const label = (file: string) => file.split(/[\\/]/).pop()!;
  const declaredBy = new Map<string, DeclaredParameters | undefined>();
  for (const { file, nb } of notebooks) declaredBy.set(file, findParameters(nb));

  const key = mode === "full" ? undefined : METADATA_KEY[mode];
  const withSizes = key ? notebooks.filter(({ nb }) => nb.metadata.lessons?.[key] !== undefined) : [];
  if (mode === "course" && withSizes.length === 0) {
    errors.push(`--course: no selected notebook has course sizes (metadata lessons.course_parameters); run without --course, or add them.`);
  }
  for (const { file, nb } of notebooks) {
    const declared = declaredBy.get(file);
    const chosen: Record<string, ParameterValue> = {};
    const fromMeta = key ? (nb.metadata.lessons?.[key] as Record<string, unknown> | undefined) : undefined;
    if (key && !fromMeta && declared) {
      notes.push(`${label(file)}: no metadata lessons.${key}; it runs with the values of its parameters cell.`);
    }
    for (const [name, value] of Object.entries(fromMeta ?? {})) {
      const where = `${label(file)} metadata lessons.${key}`;
      if (!declared?.names.has(name)) {
        errors.push(`${where} sets ${name}, but ${declared ? "the parameters cell does not declare it with let" : "the notebook has no cell tagged \"parameters\""}.`);
        continue;
      }
      try {
        chosen[name] = coerceParameter(name, value, declared, where);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    values.set(file, chosen);
  }

  for (const [name, value] of Object.entries(overrides)) {
    const takers = notebooks.filter(({ file }) => declaredBy.get(file)?.names.has(name));
    for (const { file } of notebooks) {
      if (declaredBy.get(file)?.constants.has(name)) errors.push(`${label(file)}: parameter ${name} is declared with const in the parameters cell; declare it with let.`);
    }
    if (takers.length === 0) {
      const what = notebooks.map(({ file }) => {
        const d = declaredBy.get(file);
        return d ? `${label(file)} declares ${[...d.names].join(", ") || "nothing"}` : `${label(file)} has no parameters cell`;
      });
      errors.push(`Unknown parameter ${name}: no selected notebook declares it (${what.join("; ")}).`);
      continue;
    }
    for (const { file } of takers) {
      try {
        values.get(file)![name] = coerceParameter(name, value, declaredBy.get(file)!, `-p ${name}=${describe(value)} for ${label(file)}`);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    const skipped = notebooks.filter((n) => !takers.includes(n)).map(({ file }) => label(file));
    if (skipped.length) notes.push(`-p ${name} applies to ${takers.map(({ file }) => label(file)).join(", ")}; not to ${skipped.join(", ")} (not declared there).`);
  }
  if (errors.length) throw new Error(errors.join("\n"));
  return { values, notes };
}
