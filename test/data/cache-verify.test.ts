/**
 * A damaged cache never yields wrong numbers: same-size damage is caught by sha256, repaired from a source when one
 * is reachable, and otherwise refused with the file, the problem and the command that fixes it.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-data-verify-"));
process.env.LESSONS_DATA_DIR = CACHE;

import { projectRoot } from "../../lib/paths";
import { CacheNotWritableError, DatasetUnavailableError, dataCommand, ensureFile, readManifest, VerificationError } from "../../lib/data/cache";
import { ensureMobileNetFiles } from "../../lib/data/mobilenet";
import { loadCifar10 } from "../../lib/data/cifar10";

const MIRROR = process.env.LESSONS_DATA_MIRROR || path.resolve(projectRoot(), "..", "shared", "data");
const HAVE_MIRROR = fs.existsSync(path.join(MIRROR, "mobilenet_v1_0.25_224", "model.json")) && fs.existsSync(path.join(MIRROR, "cifar10"));
const noMirror = `no mirror at ${MIRROR}`;
const nowhere = { mirror: null, offline: true, verbose: false } as const;

after(() => fs.rmSync(CACHE, { recursive: true, force: true }));

/** Overwrites `length` bytes at `offset` with random ones: the size stays the same. */
function damage(file: string, offset: number, length: number): void {
  const size = fs.statSync(file).size;
  const fd = fs.openSync(file, "r+");
  fs.writeSync(fd, crypto.randomBytes(length), 0, length, offset);
  fs.closeSync(fd);
  assert.equal(fs.statSync(file).size, size);
}

function tempMirror(files: Record<string, Buffer>): string {
  const mirror = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-mirror-"));
  for (const [p, data] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(mirror, p)), { recursive: true });
    fs.writeFileSync(path.join(mirror, p), data);
  }
  return mirror;
}

test("a same-size damaged archive is re-fetched from the mirror, or refused with the command that fixes it", async () => {
  const payload = crypto.randomBytes(300_000);
  const mirror = tempMirror({ "arch/data.tar.gz": payload });
  const spec = { name: "data.tar.gz", mirrorPath: "arch/data.tar.gz", bytes: payload.length };
  const file = await ensureFile("arch", spec, { mirror, verbose: false });
  damage(file, 100_000, 2_000);

  const repaired = await ensureFile("arch", spec, { mirror, verbose: false });
  assert.ok(fs.readFileSync(repaired).equals(payload), "repaired from the mirror");

  damage(file, 5, 10);
  await assert.rejects(ensureFile("arch", spec, nowhere), (e: Error) => {
    assert.ok(e instanceof VerificationError, e.message);
    assert.ok(e.message.includes(file), "names the file");
    assert.match(e.message, /damaged: sha256 is [0-9a-f]{64}, expected [0-9a-f]{64}/);
    assert.ok(e.message.includes(`rm "${file}" && npm run data -- arch`), e.message);
    return true;
  });
  fs.rmSync(mirror, { recursive: true, force: true });
});

test("a file damaged while a process runs is checked again (the per-process check keys on size and time)", async () => {
  const payload = crypto.randomBytes(10_000);
  const mirror = tempMirror({ "again/x.bin": payload });
  const spec = { name: "x.bin", mirrorPath: "again/x.bin" };
  const file = await ensureFile("again", spec, { mirror, verbose: false });
  assert.equal(await ensureFile("again", spec, nowhere), file, "an intact file needs no source");
  damage(file, 0, 4);
  fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
  await assert.rejects(ensureFile("again", spec, nowhere), VerificationError);
  fs.rmSync(mirror, { recursive: true, force: true });
});

test("MobileNet: a weight shard with same-size random bytes is caught; the fix names `npm run data -- mobilenet`", { skip: !HAVE_MIRROR && noMirror }, async () => {
  const files = await ensureMobileNetFiles({ mirror: MIRROR, verbose: false });
  const shard = files.shards.reduce((a, b) => (fs.statSync(a).size >= fs.statSync(b).size ? a : b));
  damage(shard, 0, Math.min(100_000, fs.statSync(shard).size));
  await assert.rejects(ensureMobileNetFiles(nowhere), (e: Error) => {
    assert.ok(e instanceof VerificationError, e.message);
    assert.ok(e.message.includes(shard));
    assert.match(e.message, /npm run data -- mobilenet\b/);
    assert.doesNotMatch(e.message, /npm run data -- mobilenet_v1/);
    return true;
  });
  const again = await ensureMobileNetFiles({ mirror: MIRROR, verbose: false });
  assert.ok(fs.readFileSync(shard).equals(fs.readFileSync(path.join(MIRROR, "mobilenet_v1_0.25_224", path.basename(shard)))));
  assert.equal(again.shards.length, files.shards.length);
});

test("CIFAR-10: shifted labels (same size) and a damaged JPEG archive are caught, not trained on", { skip: !HAVE_MIRROR && noMirror }, async () => {
  await loadCifar10({ mirror: MIRROR, prefer: "jpeg", trainCount: 10, testCount: 10, verbose: false });
  const dir = path.join(CACHE, "cifar10");
  const labelsFile = path.join(dir, "cifar10-labels-official-order.json");
  const json = JSON.parse(fs.readFileSync(labelsFile, "utf8"));
  const batch: number[] = json.data_batch_1;
  json.data_batch_1 = [...batch.slice(2000), ...batch.slice(0, 2000)]; // 2,000 labels shifted
  const text = JSON.stringify(json);
  assert.equal(Buffer.byteLength(text), fs.statSync(labelsFile).size, "the same size as the original");
  fs.writeFileSync(labelsFile, text);
  await assert.rejects(loadCifar10({ ...nowhere, prefer: "jpeg", trainCount: 10, testCount: 10 }), (e: Error) => {
    assert.ok(e instanceof VerificationError, e.message);
    assert.ok(e.message.includes(labelsFile));
    assert.match(e.message, /npm run data -- cifar10/);
    return true;
  });
  await loadCifar10({ mirror: MIRROR, prefer: "jpeg", trainCount: 10, testCount: 10, verbose: false });
  assert.ok(fs.readFileSync(labelsFile).equals(fs.readFileSync(path.join(MIRROR, "cifar10", "cifar10-labels-official-order.json"))), "repaired");

  const archive = path.join(dir, "cifar10-test-jpg.tar.gz");
  damage(archive, 1_000_000, 4096);
  await assert.rejects(loadCifar10({ ...nowhere, prefer: "jpeg", trainCount: 10, testCount: 10 }), (e: Error) => e instanceof VerificationError && e.message.includes(archive));
});

test("a damaged mirror copy says to recopy the mirror file", async () => {
  const payload = crypto.randomBytes(5000);
  const sha256 = crypto.createHash("sha256").update(payload).digest("hex");
  const mirror = tempMirror({ "bad-mirror/x.bin": Buffer.concat([payload.subarray(0, 4999), Buffer.from([0])]) });
  await assert.rejects(ensureFile("bad-mirror", { name: "x.bin", mirrorPath: "bad-mirror/x.bin", sha256 }, { mirror, verbose: false }), (e: Error) => {
    assert.ok(e instanceof VerificationError);
    assert.match(e.message, /checksum mismatch/);
    assert.ok(e.message.includes(`recopy the mirror file ${path.join(mirror, "bad-mirror", "x.bin")}`), e.message);
    return true;
  });
  fs.rmSync(mirror, { recursive: true, force: true });
});

test("a LESSONS_DATA_MIRROR that does not exist is said first; CIFAR-10's message names both mirror forms", async () => {
  const missing = path.join(os.tmpdir(), "no-such-mirror-folder-xyz");
  await assert.rejects(ensureFile("cifar10", { name: "nothing.bin", mirrorPath: "cifar10/nothing.bin" }, { mirror: missing, offline: true, verbose: false }), (e: Error) => {
    assert.ok(e instanceof DatasetUnavailableError);
    const reasons = e.message.split("\n").filter((l) => l.startsWith("  - "));
    assert.match(reasons[0]!, new RegExp(`the mirror folder ${missing} \\(LESSONS_DATA_MIRROR\\) does not exist`));
    assert.match(e.message, /cifar-10-binary\.tar\.gz/);
    assert.match(e.message, /cifar10-train-jpg\.tar\.gz/);
    return true;
  });
  assert.equal(dataCommand("mobilenet_v1_0.25_224"), "npm run data -- mobilenet");
  assert.equal(dataCommand("fashion-mnist"), "npm run data -- fashion-mnist");
});

test("partial files of an interrupted download whose process has ended are removed on the next run", async () => {
  const dir = path.join(CACHE, "partials");
  fs.mkdirSync(dir, { recursive: true });
  const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
  fs.writeFileSync(path.join(dir, `.big.bin.partial-${dead}-0a1b2c3d`), "half a file");
  fs.writeFileSync(path.join(dir, `.big.bin.partial-1-0a1b2c3d`), "another process, still running"); // pid 1 lives
  const mirror = tempMirror({ "partials/big.bin": Buffer.from("whole file") });
  await ensureFile("partials", { name: "big.bin", mirrorPath: "partials/big.bin" }, { mirror, verbose: false });
  assert.deepEqual(fs.readdirSync(dir).sort(), [".big.bin.partial-1-0a1b2c3d", "big.bin", "manifest.json"]);
  fs.rmSync(mirror, { recursive: true, force: true });
});

test("a verified cache is used without writing to it (a read-only shared cache)", async () => {
  const payload = crypto.randomBytes(2000);
  const mirror = tempMirror({ "shared/x.bin": payload });
  await ensureFile("shared", { name: "x.bin", mirrorPath: "shared/x.bin" }, { mirror, verbose: false });
  const manifest = path.join(CACHE, "shared", "manifest.json");
  const before = fs.statSync(manifest).mtimeMs;
  const entries = fs.readdirSync(path.join(CACHE, "shared")).sort();
  assert.ok(readManifest("shared")["x.bin"]);
  // A fresh process (nothing remembered) reads it offline, writing nothing.
  const script = `import { ensureFile } from ${JSON.stringify(path.join(projectRoot(), "lib", "data", "cache"))};
ensureFile("shared", { name: "x.bin", mirrorPath: "shared/x.bin" }, { mirror: null, offline: true, verbose: false }).then((f) => console.log("ok " + f));`;
  const r = spawnSync(process.execPath, [path.join(projectRoot(), "node_modules", "tsx", "dist", "cli.mjs"), "-e", script], {
    env: { ...process.env, LESSONS_DATA_DIR: CACHE },
    encoding: "utf8",
  });
  assert.match(r.stdout, /^ok /, r.stderr);
  assert.equal(fs.statSync(manifest).mtimeMs, before);
  assert.deepEqual(fs.readdirSync(path.join(CACHE, "shared")).sort(), entries);
  fs.rmSync(mirror, { recursive: true, force: true });
});

test("a data folder that cannot be written names LESSONS_DATA_DIR", async () => {
  const blocker = path.join(CACHE, "a-file");
  fs.writeFileSync(blocker, "not a folder");
  const saved = process.env.LESSONS_DATA_DIR;
  process.env.LESSONS_DATA_DIR = path.join(blocker, "data");
  try {
    await assert.rejects(ensureFile("x", { name: "y.bin" }, nowhere), (e: Error) => {
      assert.ok(e instanceof CacheNotWritableError, e.message);
      assert.match(e.message, /Cannot write to the data cache .*a-file\/data\/x \(set by LESSONS_DATA_DIR\)/);
      assert.match(e.message, /LESSONS_DATA_DIR=\$HOME\/lessons-data npm run data/);
      return true;
    });
  } finally {
    process.env.LESSONS_DATA_DIR = saved;
  }
});
