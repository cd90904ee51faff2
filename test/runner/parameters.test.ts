import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { readNotebook, sourceText } from "../../scripts/runner/nbformat";
import { chooseParameters, findParameters, injectParameters, parseParameterArg } from "../../scripts/runner/parameters";

const fixture = path.join(__dirname, "..", "fixtures", "notebooks", "passes.ipynb");

test("parseParameterArg types numbers and booleans, keeps other text as strings", () => {
  assert.deepEqual(parseParameterArg("EPOCHS=3"), ["EPOCHS", 3]);
  assert.deepEqual(parseParameterArg("LR=1e-3"), ["LR", 0.001]);
  assert.deepEqual(parseParameterArg("SCALE=-0.5"), ["SCALE", -0.5]);
  assert.deepEqual(parseParameterArg("AUGMENT=false"), ["AUGMENT", false]);
  assert.deepEqual(parseParameterArg("NAME=cats=dogs"), ["NAME", "cats=dogs"]);
  assert.deepEqual(parseParameterArg("TAG=3x"), ["TAG", "3x"]);
  assert.throws(() => parseParameterArg("EPOCHS"), /NAME=value/);
  assert.throws(() => parseParameterArg("1X=2"), /Bad parameter name/);
});

test("findParameters reads let declarations from the cell tagged parameters", () => {
  const declared = findParameters(readNotebook(fixture));
  assert.ok(declared);
  assert.deepEqual([...declared.names].sort(), ["LABEL", "SIZE", "VERBOSE"]);
  assert.equal(declared.cellIndex, 2);
});

test("--fast values come from metadata, -p values win", () => {
  const nb = readNotebook(fixture);
  assert.deepEqual(chooseParameters(nb, true, {}), { SIZE: 3 });
  assert.deepEqual(chooseParameters(nb, true, { SIZE: 7, LABEL: "x" }), { SIZE: 7, LABEL: "x" });
  assert.deepEqual(chooseParameters(nb, false, {}), {});
});

test("injectParameters adds a tagged cell right after the parameters cell, leaving the source intact", () => {
  const nb = readNotebook(fixture);
  const before = JSON.stringify(nb);
  const out = injectParameters(nb, { SIZE: 3, LABEL: 'say "hi"', VERBOSE: true });
  assert.equal(JSON.stringify(nb), before);
  assert.equal(out.cells.length, nb.cells.length + 1);
  const cell = out.cells[3]!;
  assert.deepEqual(cell.metadata.tags, ["injected-parameters"]);
  const src = sourceText(cell.source);
  assert.match(src, /^\s*SIZE = 3;$/m);
  assert.match(src, /^\s*LABEL = "say \\"hi\\"";$/m);
  assert.match(src, /^\s*VERBOSE = true;$/m);
  assert.equal(typeof cell.id, "string");
  assert.equal(injectParameters(nb, {}), nb);
});

test("unknown or const parameters are errors that name the declared ones", () => {
  const nb = readNotebook(fixture);
  assert.throws(() => injectParameters(nb, { EPOCHS: 2 }), /Unknown parameter EPOCHS.*SIZE, LABEL, VERBOSE/);
  const withConst = JSON.parse(JSON.stringify(nb));
  withConst.cells[2].source = ["const SIZE = 100;\n"];
  assert.throws(() => injectParameters(withConst, { SIZE: 2 }), /declare it with let/);
  const noParams = JSON.parse(JSON.stringify(nb));
  noParams.cells[2].metadata = {};
  assert.throws(() => injectParameters(noParams, { SIZE: 2 }), /no code cell tagged "parameters"/);
});

import { coerceParameter, planParameters } from "../../scripts/runner/parameters";
import type { Notebook } from "../../scripts/runner/nbformat";

/** A notebook with the given parameters cell (none when `params` is undefined) and lessons metadata. */
function lesson(params: string | undefined, lessons?: Record<string, unknown>): Notebook {
  const cells: Notebook["cells"] = [{ cell_type: "code", metadata: {}, source: "console.log(1);\n", outputs: [], execution_count: null }];
  if (params !== undefined) cells.push({ cell_type: "code", metadata: { tags: ["parameters"] }, source: params, outputs: [], execution_count: null });
  return { cells, metadata: lessons ? { lessons } : {}, nbformat: 4, nbformat_minor: 5 };
}

const setup = { file: "/x/00-setup-check.ipynb", nb: lesson(undefined) };
const cnn = {
  file: "/x/01-cnn.ipynb",
  nb: lesson('let EPOCHS = 10;  // epochs\nlet LABEL = "full";\nlet RATES = [0.2, 0.5];\nlet VERBOSE: boolean = false;\nconst FIXED = 3;\n', {
    fast_parameters: { EPOCHS: 2 },
    course_parameters: { EPOCHS: 20, RATES: [0.1] },
  }),
};
const tuning = { file: "/x/02-tuning.ipynb", nb: lesson("let EPOCHS = 20;\nlet PATIENCE = 5;\n", { fast_parameters: { EPOCHS: 1 } }) };

test("-p with several notebooks applies where the parameter is declared, with a note for the others", () => {
  const plan = planParameters([setup, cnn, tuning], "full", { PATIENCE: 2, EPOCHS: 3 });
  assert.deepEqual(plan.values.get(setup.file), {});
  assert.deepEqual(plan.values.get(cnn.file), { EPOCHS: 3 });
  assert.deepEqual(plan.values.get(tuning.file), { PATIENCE: 2, EPOCHS: 3 });
  assert.ok(plan.notes.some((n) => /-p PATIENCE applies to 02-tuning\.ipynb; not to 00-setup-check\.ipynb, 01-cnn\.ipynb/.test(n)), plan.notes.join("\n"));
  assert.throws(
    () => planParameters([setup, tuning], "full", { EPOCHS_X: 3 }),
    /Unknown parameter EPOCHS_X: no selected notebook declares it \(00-setup-check\.ipynb has no parameters cell; 02-tuning\.ipynb declares EPOCHS, PATIENCE\)/,
  );
  assert.throws(() => planParameters([cnn], "full", { FIXED: 4 }), /FIXED is declared with const/);
});

test("values are checked against the declared type before anything runs; text and lists are converted", () => {
  assert.throws(() => planParameters([cnn], "full", { EPOCHS: "many" }), /01-cnn\.ipynb: EPOCHS \(declared `let EPOCHS = 10`\) is a number, but got "many"/);
  assert.throws(() => planParameters([cnn], "full", { VERBOSE: 1 }), /VERBOSE .* is true or false, but got 1/);
  assert.deepEqual(planParameters([cnn], "full", { LABEL: 3, RATES: "[0.3,0.6]" }).values.get(cnn.file), { LABEL: "3", RATES: [0.3, 0.6] });
  assert.throws(() => planParameters([cnn], "full", { RATES: "0.3" }), /RATES .* is a list: write it as JSON/);
  // All problems at once, one per line.
  assert.throws(() => planParameters([cnn], "full", { EPOCHS: "x", VERBOSE: "y" }), (e: Error) => e.message.split("\n").length === 2);
});

test("non-finite numbers are refused, never injected as null", () => {
  assert.throws(() => parseParameterArg("EPOCHS=1e999"), /not finite/);
  assert.throws(() => parseParameterArg("EPOCHS=-1e400"), /not finite/);
  const declared = findParameters(cnn.nb)!;
  assert.throws(() => coerceParameter("EPOCHS", Infinity, declared, "here"), /not a finite number/);
  assert.throws(() => coerceParameter("EPOCHS", "NaN", declared, "here"), /is a number, but got "NaN"/);
  assert.throws(() => planParameters([cnn], "full", { RATES: "[1e999]" }), /RATES .*null is not a number|not a finite/);
});

test("--course takes lessons.course_parameters; notebooks without it or without parameters run as they are, with a note", () => {
  const plan = planParameters([setup, cnn, tuning], "course", { EPOCHS: 4 });
  assert.deepEqual(plan.values.get(cnn.file), { EPOCHS: 4, RATES: [0.1] }, "-p wins over --course");
  assert.deepEqual(plan.values.get(tuning.file), { EPOCHS: 4 });
  assert.deepEqual(plan.values.get(setup.file), {});
  assert.ok(plan.notes.some((n) => /02-tuning\.ipynb: no metadata lessons\.course_parameters; it runs with the values of its parameters cell/.test(n)));
  assert.ok(!plan.notes.some((n) => n.startsWith("00-setup-check")), "a notebook without parameters needs no note");
  assert.throws(() => planParameters([setup, tuning], "course", {}), /--course: no selected notebook has course sizes/);
  assert.deepEqual(planParameters([setup, cnn, tuning], "fast", {}).values.get(tuning.file), { EPOCHS: 1 });
  const typo = { file: "/x/03.ipynb", nb: lesson("let EPOCHS = 1;\n", { course_parameters: { EPOCH: 2 } }) };
  assert.throws(() => planParameters([typo], "course", {}), /03\.ipynb metadata lessons\.course_parameters sets EPOCH, but the parameters cell does not declare it/);
});

test("the lessons' own metadata sizes fit their parameters cells", () => {
  const dir = path.join(__dirname, "..", "..", "notebooks");
  const lessons = fs.readdirSync(dir).filter((f) => f.endsWith(".ipynb")).map((f) => ({ file: path.join(dir, f), nb: readNotebook(path.join(dir, f)) }));
  planParameters(lessons, "fast", {});
  if (lessons.some(({ nb }) => nb.metadata.lessons?.course_parameters)) planParameters(lessons, "course", {});
});
