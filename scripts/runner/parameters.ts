/**
 * Lesson parameters, papermill style: the cell tagged `parameters` declares `let NAME = value;`, and the runner
 * injects a cell tagged `injected-parameters` after it that reassigns the chosen ones.
 */
import { randomUUID } from "crypto";
import { type CodeCell, hasTag, type Notebook, sourceText } from "./nbformat";

export type ParameterValue = number | boolean | string;

/** `-p NAME=value`: numbers and true/false are typed, anything else is a string. */
export function parseParameterArg(arg: string): [string, ParameterValue] {
  const eq = arg.indexOf("=");
  if (eq <= 0) throw new Error(`Bad parameter "${arg}": write it as NAME=value, e.g. -p EPOCHS=2`);
  const name = arg.slice(0, eq).trim();
  const raw = arg.slice(eq + 1).trim();
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new Error(`Bad parameter name "${name}" in "${arg}"`);
  if (raw === "true" || raw === "false") return [name, raw === "true"];
  if (raw !== "" && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(raw)) return [name, Number(raw)];
  return [name, raw];
}

export interface DeclaredParameters {
  /** Index of the `parameters` cell in notebook.cells. */
  cellIndex: number;
  /** Names declared with `let` (or `var`). */
  names: Set<string>;
  /** Names declared with `const` (cannot be overridden). */
  constants: Set<string>;
}

export function findParameters(nb: Notebook): DeclaredParameters | undefined {
  const cellIndex = nb.cells.findIndex((c) => c.cell_type === "code" && hasTag(c, "parameters"));
  if (cellIndex < 0) return undefined;
  const names = new Set<string>();
  const constants = new Set<string>();
  const decl = /^\s*(let|var|const)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=/gm;
  for (const m of sourceText(nb.cells[cellIndex]!.source).matchAll(decl)) {
    (m[1] === "const" ? constants : names).add(m[2]!);
  }
  return { cellIndex, names, constants };
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
