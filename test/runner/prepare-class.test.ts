import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { prepareClassArgs } from "../../scripts/prepare-class";

test("prepare-class runs the lessons that call trainOrReplay, passes options through and refuses --fast", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-prepare-"));
  fs.mkdirSync(path.join(root, "notebooks"));
  fs.writeFileSync(path.join(root, "notebooks", "01-a.ipynb"), '{"cells": ["await train(model, data, opts)"]}');
  fs.writeFileSync(path.join(root, "notebooks", "03-b.ipynb"), '{"cells": ["await trainOrReplay(model, data, opts, { name: \\"x\\" })"]}');
  try {
    assert.deepEqual(prepareClassArgs(["--course", "--jobs", "2"], root), ["--course", "--jobs", "2", path.join("notebooks", "03-b.ipynb")]);
    assert.deepEqual(prepareClassArgs(["notebooks/01-a.ipynb", "-p", "EPOCHS=3"], root), ["notebooks/01-a.ipynb", "-p", "EPOCHS=3"]);
    assert.throws(() => prepareClassArgs(["--fast"], root), /Leave out --fast/);
    fs.rmSync(path.join(root, "notebooks", "03-b.ipynb"));
    assert.throws(() => prepareClassArgs([], root), /No notebook .* calls trainOrReplay/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
