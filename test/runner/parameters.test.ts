import { test } from "node:test";
import assert from "node:assert/strict";
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
