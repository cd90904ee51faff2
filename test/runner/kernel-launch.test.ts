/**
 * The registered kernel survives real life: it finds the checkout from the notebook's folder (two checkouts never
 * share packages), falls back to the registering checkout outside any checkout, follows `node` on PATH, and every
 * failure at start says what to run. Plus the install scopes (--user, --sys-prefix, --system), tested with a fake
 * `jupyter` command that records what it was asked, and one real kernel started through kernel.json.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { describeKernelRegistration, installKernelspec, specCheckout, systemKernelsDir } from "../../scripts/kernel/install";
import { KERNEL_NAME, kernelJson } from "../../scripts/kernel/kernelspec";
import { Kernel } from "../../scripts/runner/kernel-client";

const root = path.join(__dirname, "..", "..");
const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "kernel-launch-")));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A folder that looks like a course checkout, with (or without) an installed tslab. */
function fakeCheckout(name: string, installed = true): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(path.join(dir, "notebooks"), { recursive: true });
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: KERNEL_NAME, version: "0.1.0" }, null, 2));
  if (installed) {
    fs.mkdirSync(path.join(dir, "node_modules", "tslab", "bin"), { recursive: true });
    fs.writeFileSync(path.join(dir, "node_modules", "tslab", "bin", "tslab"), "");
  }
  return dir;
}

/** Runs the kernel.json command in `cwd` without starting tslab (LESSONS_KERNEL_DRY_RUN prints what it would run). */
function launch(cwd: string, opts: { fallback?: string; node?: string; path?: string } = {}) {
  const spec = kernelJson(root);
  const argv = spec.argv.map((a) => a.replace("{connection_file}", path.join(tmp, "conn.json")));
  if (opts.fallback) argv[5] = opts.fallback;
  if (opts.node) argv[6] = opts.node;
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd,
    encoding: "utf8",
    env: { PATH: opts.path ?? process.env.PATH!, LESSONS_KERNEL_DRY_RUN: "1" },
  });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

const tslabOf = (checkout: string) => path.join(checkout, "node_modules", "tslab", "bin", "tslab");
const nodeOnPath = spawnSync("sh", ["-c", "command -v node"], { encoding: "utf8" }).stdout.trim();

test("the kernel runs the tslab of the checkout that holds the notebook: two checkouts never share", () => {
  assert.deepEqual(launch(path.join(root, "notebooks")), { code: 0, stdout: `${nodeOnPath} ${tslabOf(fs.realpathSync(root))}`, stderr: "" });
  const second = fakeCheckout("second-checkout");
  assert.equal(launch(path.join(second, "notebooks")).stdout, `${nodeOnPath} ${tslabOf(second)}`);
});

test("a notebook outside any checkout uses the registering checkout; a moved or deleted one says what to run", () => {
  const outside = fs.mkdtempSync(path.join(tmp, "elsewhere-"));
  assert.equal(launch(outside).stdout, `${nodeOnPath} ${tslabOf(root)}`);
  const gone = launch(outside, { fallback: path.join(tmp, "moved-away") });
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^TypeScript \(CNN lessons\) kernel: the course checkout .*moved-away, registered by npm run kernel:install, no longer exists \(moved or deleted\)\. .*run npm run kernel:install in the checkout you use now\.$/);
});

test("a checkout without npm install fails with the fix instead of borrowing another checkout's tslab", () => {
  const bare = fakeCheckout("not-installed", false);
  const r = launch(path.join(bare, "notebooks"));
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${bare}.*has no node_modules/tslab: run npm install \\(or npm ci\\) in ${bare}\\.`));
});

test("Node is resolved at start: node on PATH when new enough, else the registering Node, else a clear message", () => {
  const empty = fs.mkdtempSync(path.join(tmp, "bin-empty-"));
  assert.equal(launch(path.join(root, "notebooks"), { path: empty }).stdout, `${process.execPath} ${tslabOf(fs.realpathSync(root))}`);
  const old = fs.mkdtempSync(path.join(tmp, "bin-old-"));
  fs.writeFileSync(path.join(old, "node"), "#!/bin/sh\nexit 1\n", { mode: 0o755 }); // fails the version check, like Node 18
  assert.equal(launch(path.join(root, "notebooks"), { path: old }).stdout, `${process.execPath} ${tslabOf(fs.realpathSync(root))}`);
  const none = launch(path.join(root, "notebooks"), { path: empty, node: path.join(tmp, "old-nvm-node") });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /needs Node\.js 20\.19 or newer: no node on PATH, and .*old-nvm-node \(the Node that registered the kernel\) is gone\. Install Node 20\.19\+/);
});

test("a real kernel starts through kernel.json's command, with the kernel preload (parent watch, tslab timer fix) loaded", async () => {
  const spec = kernelJson(root);
  const kernel = await Kernel.start({ root, cwd: path.join(root, "notebooks"), argv: (file) => spec.argv.map((a) => a.replace("{connection_file}", file)) });
  try {
    const cmd = fs.readFileSync(`/proc/${kernel.pid}/cmdline`, "utf8");
    assert.match(cmd, /kernel-preload\.cjs/, "sh exec'd node, so Jupyter's interrupt signal reaches the kernel itself");
    const run = await kernel.execute('console.log(require("path").basename(process.cwd()));\n', 60_000);
    assert.equal(run.status, "ok", run.stderr);
    assert.deepEqual(run.outputs, [{ output_type: "stream", name: "stdout", text: "notebooks\n" }]);
  } finally {
    await kernel.shutdown();
  }
});

/** A fake `jupyter` first on PATH: logs its arguments; `kernelspec install` works only with FAKE_KERNELSPEC=1. */
function fakeJupyter(withKernelspec: boolean): { prefix: string; log: string; data: string; env: NodeJS.ProcessEnv } {
  const prefix = fs.mkdtempSync(path.join(tmp, "venv-"));
  const data = path.join(prefix, "user-data");
  const log = path.join(prefix, "log");
  fs.mkdirSync(path.join(prefix, "bin"));
  const script = `#!/bin/sh
echo "$*" >> "${log}"
case "$1" in
  --version) echo 4.12.0 ;;
  --data-dir) echo "${data}" ;;
  --paths) echo '{"data": ["${data}", "${prefix}/share/jupyter"]}' ;;
  kernelspec)
    [ "${withKernelspec ? 1 : ""}" = 1 ] || { echo "jupyter: 'kernelspec' is not a Jupyter command" >&2; exit 1; }
    for last; do :; done
    case "$*" in *--sys-prefix*) dest="${prefix}/share/jupyter/kernels" ;; *--user*) dest="${data}/kernels" ;; *) dest="${prefix}/system/kernels" ;; esac
    mkdir -p "$dest" && cp -r "$last" "$dest/" && echo "[InstallKernelSpec] Installed kernelspec ${KERNEL_NAME} in $dest/${KERNEL_NAME}" >&2 ;;
  *) exit 1 ;;
esac
`;
  fs.writeFileSync(path.join(prefix, "bin", "jupyter"), script, { mode: 0o755 });
  return { prefix, log, data, env: { ...process.env, PATH: `${path.join(prefix, "bin")}:${process.env.PATH}` } };
}

async function withEnv<T>(env: NodeJS.ProcessEnv, fn: () => Promise<T>): Promise<T> {
  const saved = process.env;
  process.env = env;
  try {
    return await fn();
  } finally {
    process.env = saved;
  }
}

test("kernel:install scopes: --user, --sys-prefix and --system reach `jupyter kernelspec install` as such", async () => {
  const fake = fakeJupyter(true);
  await withEnv(fake.env, async () => {
    const user = await installKernelspec(root, "user");
    const sys = await installKernelspec(root, "sys-prefix");
    const system = await installKernelspec(root, "system");
    assert.equal(user.dir, path.join(fake.data, "kernels", KERNEL_NAME));
    assert.equal(sys.dir, path.join(fake.prefix, "share", "jupyter", "kernels", KERNEL_NAME));
    assert.equal(system.dir, path.join(fake.prefix, "system", "kernels", KERNEL_NAME));
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(sys.dir, "kernel.json"), "utf8")), kernelJson(root));
  });
  const calls = fs.readFileSync(fake.log, "utf8").split("\n").filter((l) => l.startsWith("kernelspec install"));
  assert.match(calls[0]!, /^kernelspec install --user --replace --name cnn-lessons-ts \//);
  assert.match(calls[1]!, /^kernelspec install --sys-prefix --replace --name cnn-lessons-ts \//);
  assert.match(calls[2]!, /^kernelspec install --replace --name cnn-lessons-ts \//);
});

test("without `jupyter kernelspec` (Debian) the spec is written where Jupyter reads that scope", async () => {
  const fake = fakeJupyter(false);
  await withEnv(fake.env, async () => {
    const sys = await installKernelspec(root, "sys-prefix");
    assert.equal(sys.method, "direct write");
    assert.equal(sys.dir, path.join(fake.prefix, "share", "jupyter", "kernels", KERNEL_NAME));
    const user = await installKernelspec(root, "user");
    assert.equal(user.dir, path.join(fake.data, "kernels", KERNEL_NAME));
    assert.ok(fs.existsSync(path.join(user.dir, "kernel.json")));
  });
  assert.equal(systemKernelsDir("linux"), "/usr/local/share/jupyter/kernels");
  assert.equal(systemKernelsDir("win32", { PROGRAMDATA: "D:\\\\Data" }), path.join("D:\\\\Data", "jupyter", "kernels"));
});

test("a registration from another checkout is replaced with a note, and npm start can say which checkout runs", async () => {
  const fake = fakeJupyter(false);
  const other = fakeCheckout("other-checkout");
  await withEnv(fake.env, async () => {
    assert.match(await describeKernelRegistration(root), /is not registered with Jupyter: run npm run kernel:install/);
    await installKernelspec(other, "user");
    const r = await installKernelspec(root, "user");
    assert.equal(r.replacedCheckout, other);
    const text = await describeKernelRegistration(root);
    assert.ok(text.includes(`notebooks in ${root} run this checkout's tslab`), text);
    assert.ok(text.includes(`notebooks outside any checkout use ${root}`), text);
    // An old-style registration that names one checkout's tslab directly is called out.
    const file = path.join(fake.data, "kernels", KERNEL_NAME, "kernel.json");
    fs.writeFileSync(file, JSON.stringify({ argv: [process.execPath, tslabOf(other), "kernel", "--config-path", "{connection_file}"] }));
    assert.equal(specCheckout(JSON.parse(fs.readFileSync(file, "utf8"))), other);
    assert.match(await describeKernelRegistration(root), /older registration that always runs .*other-checkout's tslab, not this checkout's: run npm run kernel:install/);
  });
});
