import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { tslabDiagnostics } from "../../scripts/runner/tslab-typecheck";

const root = path.join(__dirname, "..", "..");

function tsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

test("the checker flags what tslab rejects but the project tsconfig (with DOM) accepts", () => {
  // Inside the project, so that node_modules/@types is visible as it is to notebooks.
  fs.mkdirSync(path.join(root, "build"), { recursive: true });
  const dir = fs.mkdtempSync(path.join(root, "build", "tslab-tc-"));
  try {
    const file = path.join(dir, "probe.ts");
    fs.writeFileSync(file, "export function size(m: WebAssembly.Memory): number {\n  return m.buffer.byteLength;\n}\n");
    const diags = tslabDiagnostics([file], dir);
    assert.equal(diags.length, 1, diags.join("\n"));
    assert.match(diags[0]!, /^probe\.ts 1:37 - Namespace 'WebAssembly' has no exported member 'Memory'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("every lib module type-checks as a notebook imports it (./lib/... under tslab's TypeScript 5.0)", () => {
  const notebooks = path.join(root, "notebooks");
  const files = tsFiles(path.join(notebooks, "lib"));
  assert.ok(files.some((f) => f.endsWith(path.join("lib", "paths.ts"))));
  const diags = tslabDiagnostics(files, notebooks);
  assert.deepEqual(diags, [], "lib code must compile under tslab (no DOM types, TypeScript 5.0 syntax)");
});
