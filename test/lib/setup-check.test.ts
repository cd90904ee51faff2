import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkNodeVersion, checkDatasets, verdict, formatResults } from "../../lib/setup-check";

test("checkNodeVersion accepts 20.19 and newer, refuses older with a fix", () => {
  assert.equal(checkNodeVersion("20.19.0").ok, true);
  assert.equal(checkNodeVersion("22.1.0").ok, true);
  const old = checkNodeVersion("20.18.3");
  assert.equal(old.ok, false);
  assert.match(old.fix ?? "", /20\.19/);
  assert.equal(checkNodeVersion("22.1.0").detail, "version 22.1.0", "under Node: Node's version only");
  assert.equal(checkNodeVersion("26.3.0", "2.9.6").detail, "version 26.3.0 (Deno 2.9.6's Node.js compatibility)");
});

test("checkDatasets reports mirror availability and how to fetch what is missing", () => {
  const before = process.env.LESSONS_DATA_DIR;
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "cache-"));
  const mirror = fs.mkdtempSync(path.join(os.tmpdir(), "mirror-"));
  fs.mkdirSync(path.join(mirror, "mobilenet_v1_0.25_224"));
  fs.writeFileSync(path.join(mirror, "mobilenet_v1_0.25_224", "model.json"), "{}");
  process.env.LESSONS_DATA_DIR = cache;
  try {
    const results = checkDatasets(mirror);
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    assert.equal(byName["data: mobilenet"].ok, true);
    assert.match(byName["data: mobilenet"].detail, /mirror/);
    assert.equal(byName["data: dollar-street"].ok, false);
    assert.match(byName["data: dollar-street"].fix ?? "", /npm run data -- dollar-street/);
    const text = verdict(results);
    assert.match(text, /^not ready yet:/);
    assert.match(text, /dollar-street/);
    assert.match(formatResults(results), /MISSING\s+data: cifar10/);
  } finally {
    if (before === undefined) delete process.env.LESSONS_DATA_DIR;
    else process.env.LESSONS_DATA_DIR = before;
  }
});

test("verdict says ready when every check passed", () => {
  assert.equal(verdict([{ name: "a", ok: true, detail: "fine" }]), "ready");
});

test("checkBackend flags the plain JavaScript backend", async () => {
  const { checkBackend, SetupReport } = await import("../../lib/setup-check");
  assert.equal(checkBackend({ name: "wasm", threads: 2 }).ok, true);
  const cpu = checkBackend({ name: "cpu", threads: 1 });
  assert.equal(cpu.ok, false);
  const report = new SetupReport();
  report.add(cpu, { name: "Node.js", ok: true, detail: "v20" });
  assert.equal(report.results.length, 2);
  assert.match(verdict(report.results), /backend/);
});
