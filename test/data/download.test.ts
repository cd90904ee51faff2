import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";

const CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-data-dl-"));
process.env.LESSONS_DATA_DIR = CACHE;

import { DatasetUnavailableError, ensureFile, readManifest, VerificationError } from "../../lib/data/cache";
import { downloadFile, NetworkUnavailableError } from "../../lib/data/download";

const PAYLOAD = crypto.randomBytes(200_000);
const SHA = crypto.createHash("sha256").update(PAYLOAD).digest("hex");
let server: http.Server;
let base = "";
let flakyHits = 0;
let silentHits = 0;

before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === "/ok.bin") {
      res.writeHead(200, { "content-length": PAYLOAD.length });
      res.end(PAYLOAD);
    } else if (req.url === "/cut.bin" || (req.url === "/flaky.bin" && flakyHits++ === 0)) {
      // Promise the whole file, send half, then drop the connection.
      res.writeHead(200, { "content-length": PAYLOAD.length });
      res.write(PAYLOAD.subarray(0, PAYLOAD.length / 2), () => res.socket?.destroy());
    } else if (req.url === "/flaky.bin") {
      res.writeHead(200, { "content-length": PAYLOAD.length });
      res.end(PAYLOAD);
    } else if (req.url === "/silent.bin") {
      silentHits++; // never answer, like a firewall that drops packets
    } else if (req.url === "/moved.bin") {
      res.writeHead(302, { location: "/ok.bin" });
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
  fs.rmSync(CACHE, { recursive: true, force: true });
});

const quiet = { verbose: false, mirror: null, attempts: 2, backoffMs: 10 } as const;
/** Files in a folder other than the manifest, including hidden temporary ones. */
const leftovers = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f !== "manifest.json") : []);

test("downloads through a redirect, verifies the sha256 and records it in the manifest", async () => {
  const file = await ensureFile("dl-ok", { name: "ok.bin", url: `${base}/moved.bin`, bytes: PAYLOAD.length, sha256: SHA }, quiet);
  assert.ok(fs.readFileSync(file).equals(PAYLOAD));
  const entry = readManifest("dl-ok")["ok.bin"];
  assert.equal(entry.sha256, SHA);
  assert.equal(entry.verifiedBy, "size+sha256");
  assert.equal(entry.source, `${base}/moved.bin`);
});

test("an interrupted download fails clearly and leaves no complete-looking file", async () => {
  const dest = path.join(CACHE, "dl-cut", "cut.bin");
  await assert.rejects(
    downloadFile(`${base}/cut.bin`, dest, { attempts: 2, backoffMs: 10, progress: false }),
    (e: Error) => /failed after 2 attempts/.test(e.message) && /(interrupted|cut|aborted)/.test(e.message),
  );
  assert.equal(fs.existsSync(dest), false);
  assert.deepEqual(leftovers(path.dirname(dest)), []);
});

test("a dropped connection is retried with back-off", async () => {
  const dest = path.join(CACHE, "dl-flaky", "flaky.bin");
  await downloadFile(`${base}/flaky.bin`, dest, { attempts: 3, backoffMs: 10, progress: false });
  assert.equal(flakyHits, 2);
  assert.ok(fs.readFileSync(dest).equals(PAYLOAD));
});

test("a server that never answers counts as offline and is not retried", async () => {
  const dest = path.join(CACHE, "dl-silent", "silent.bin");
  await assert.rejects(
    downloadFile(`${base}/silent.bin`, dest, { attempts: 3, backoffMs: 10, idleTimeoutMs: 300, progress: false }),
    (e: Error) => e instanceof NetworkUnavailableError && /no answer within 0.3 s/.test(e.message),
  );
  assert.equal(silentHits, 1);
  assert.deepEqual(leftovers(path.dirname(dest)), []);
});

test("a checksum mismatch is rejected and nothing is cached", async () => {
  const wrong = "0".repeat(64);
  await assert.rejects(
    ensureFile("dl-bad", { name: "ok.bin", url: `${base}/ok.bin`, sha256: wrong }, quiet),
    (e: Error) => e instanceof DatasetUnavailableError && /checksum mismatch/.test(e.message) && e.message.includes(SHA) && e.message.includes(wrong),
  );
  assert.deepEqual(leftovers(path.join(CACHE, "dl-bad")), []);
});

test("offline: the error names the dataset, the URL, the mirror and how to copy the file by hand", async () => {
  // A port nothing listens on: connection refused, as when offline.
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const url = `http://127.0.0.1:${port}/data.bin`;
  await assert.rejects(ensureFile("offline-set", { name: "data.bin", url, mirrorPath: "offline-set/data.bin" }, quiet), (e: Error) => {
    assert.ok(e instanceof DatasetUnavailableError);
    assert.match(e.message, /offline-set\/data\.bin/);
    assert.ok(e.message.includes(url), "names the URL");
    assert.match(e.message, /LESSONS_DATA_MIRROR/);
    assert.ok(e.message.includes(path.join(CACHE, "offline-set", "data.bin")), "says where to copy the file");
    return true;
  });
});

test("the mirror is used instead of the internet, through the same verification", async () => {
  const mirror = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-mirror-"));
  fs.mkdirSync(path.join(mirror, "mirrored"));
  fs.writeFileSync(path.join(mirror, "mirrored", "ok.bin"), PAYLOAD);
  const spec = { name: "ok.bin", url: "http://127.0.0.1:9/never-used", mirrorPath: "mirrored/ok.bin", sha256: SHA };
  const file = await ensureFile("mirrored", spec, { ...quiet, mirror });
  assert.ok(fs.readFileSync(file).equals(PAYLOAD));
  assert.equal(readManifest("mirrored")["ok.bin"].source, path.join(mirror, "mirrored", "ok.bin"));

  // A corrupted mirror copy is refused, not cached.
  fs.writeFileSync(path.join(mirror, "mirrored", "bad.bin"), PAYLOAD.subarray(1));
  await assert.rejects(
    ensureFile("mirrored", { ...spec, name: "bad.bin", mirrorPath: "mirrored/bad.bin", bytes: PAYLOAD.length }, { ...quiet, mirror }),
    (e: Error) => e instanceof VerificationError && /truncated/.test(e.message),
  );
  assert.equal(fs.existsSync(path.join(CACHE, "mirrored", "bad.bin")), false);
  fs.rmSync(mirror, { recursive: true, force: true });
});

test("a truncated file copied into the cache by hand is refused with a clear message", async () => {
  const dir = path.join(CACHE, "by-hand");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "data.bin"), PAYLOAD.subarray(0, 1000));
  await assert.rejects(
    ensureFile("by-hand", { name: "data.bin", bytes: PAYLOAD.length, sha256: SHA }, quiet),
    (e: Error) => e instanceof VerificationError && /truncated/.test(e.message) && /delete it/.test(e.message),
  );
});
