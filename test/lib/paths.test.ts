import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { projectRoot, dataDir } from "../../lib/paths";

test("projectRoot finds the folder holding this project's package.json", () => {
  const root = projectRoot();
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
  assert.equal(pkg.name, "cnn-lessons-ts");
  assert.ok(fs.existsSync(path.join(root, "lib", "paths.ts")));
});

test("dataDir honours LESSONS_DATA_DIR", () => {
  const before = process.env.LESSONS_DATA_DIR;
  process.env.LESSONS_DATA_DIR = "/tmp/somewhere";
  try {
    assert.equal(dataDir(), "/tmp/somewhere");
  } finally {
    if (before === undefined) delete process.env.LESSONS_DATA_DIR;
    else process.env.LESSONS_DATA_DIR = before;
  }
  assert.equal(path.basename(dataDir()), "data");
});
