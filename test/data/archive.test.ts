import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import * as tar from "tar";
import { extractTarGz, readTarGz } from "../../lib/data/archive";

const WORK = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-archive-"));
after(() => fs.rmSync(WORK, { recursive: true, force: true }));

interface Entry {
  path: string;
  type: "File" | "Directory" | "SymbolicLink" | "Link";
  data?: string;
  linkpath?: string;
}

/** Build a .tar.gz by hand from raw headers, so hostile entries get in exactly as written. */
function makeTarGz(name: string, entries: Entry[]): string {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? "");
    const header = new tar.Header({
      path: e.path,
      type: e.type,
      size: e.type === "File" ? data.length : 0,
      mode: e.type === "Directory" ? 0o755 : 0o644,
      mtime: new Date(0),
      linkpath: e.linkpath,
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (e.type === "File") blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  const file = path.join(WORK, name);
  fs.writeFileSync(file, zlib.gzipSync(Buffer.concat(blocks)));
  return file;
}

test("a well-formed archive extracts into the target folder", async () => {
  const archive = makeTarGz("good.tar.gz", [
    { path: "set/", type: "Directory" },
    { path: "set/a.txt", type: "File", data: "alpha" },
    { path: "set/b/c.txt", type: "File", data: "gamma" },
  ]);
  const target = path.join(WORK, "good");
  await extractTarGz(archive, target);
  assert.equal(fs.readFileSync(path.join(target, "set", "a.txt"), "utf8"), "alpha");
  assert.equal(fs.readFileSync(path.join(target, "set", "b", "c.txt"), "utf8"), "gamma");
  const seen: string[] = [];
  await readTarGz(archive, (p, d) => seen.push(`${p}=${d}`));
  assert.deepEqual(seen, ["set/a.txt=alpha", "set/b/c.txt=gamma"]);
});

const hostile: [string, Entry, RegExp][] = [
  ["dotdot", { path: "set/../../escaped.txt", type: "File", data: "x" }, /contains "\.\."/],
  ["absolute", { path: "/tmp/lessons-absolute-escape.txt", type: "File", data: "x" }, /absolute path/],
  ["symlink", { path: "set/link", type: "SymbolicLink", linkpath: "/etc/passwd" }, /SymbolicLink.*links and devices are not allowed/],
  ["hardlink", { path: "set/hard", type: "Link", linkpath: "../outside" }, /Link.*not allowed/],
];

for (const [name, entry, why] of hostile) {
  test(`a hostile archive entry (${name}) is refused and nothing is extracted`, async () => {
    const archive = makeTarGz(`${name}.tar.gz`, [{ path: "set/ok.txt", type: "File", data: "fine" }, entry]);
    const target = path.join(WORK, `out-${name}`);
    await assert.rejects(extractTarGz(archive, target), (e: Error) => e.message.includes(archive) && /hostile/.test(e.message) && why.test(e.message));
    assert.equal(fs.existsSync(target), false, "target folder not created");
    assert.equal(fs.existsSync(path.join(WORK, "escaped.txt")), false);
    assert.equal(fs.existsSync("/tmp/lessons-absolute-escape.txt"), false);
    await assert.rejects(readTarGz(archive, () => undefined), why);
  });
}
