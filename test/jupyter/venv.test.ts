import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { chooseJupyter, NO_JUPYTER_MESSAGE, rootArgs } from "../../scripts/jupyter/start-plan";
import { envWithVenv, requirementsDigest, STAMP_FILE, venvBin, venvUpToDate } from "../../scripts/jupyter/venv";
import { projectRoot } from "../../lib/paths";

function fakeVenv(t: { after(fn: () => void): void }): { dir: string; reqDir: string } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "venv-test-"));
  t.after(() => fs.rmSync(base, { recursive: true, force: true }));
  const dir = path.join(base, ".venv-jupyter");
  fs.mkdirSync(path.dirname(venvBin(dir, "jupyter")), { recursive: true });
  fs.writeFileSync(venvBin(dir, "jupyter"), "");
  fs.writeFileSync(path.join(base, "requirements-jupyter.txt"), "jupyterlab==4.6.6\n");
  fs.writeFileSync(path.join(base, "requirements-hub.txt"), "-r requirements-jupyter.txt\njupyterhub==6.1.1\n");
  return { dir, reqDir: base };
}

function stamp(dir: string, reqDir: string, file: string): void {
  const sha256 = requirementsDigest(path.join(reqDir, file));
  fs.writeFileSync(path.join(dir, STAMP_FILE), JSON.stringify({ requirements: file, sha256, python: "3.11.2", installed: "x" }));
}

test("a venv counts as installed only with a stamp matching the requirements as they are now", (t) => {
  const { dir, reqDir } = fakeVenv(t);
  const lab = path.join(reqDir, "requirements-jupyter.txt");
  assert.equal(venvUpToDate(dir, lab), false, "no stamp: a half-built venv");
  stamp(dir, reqDir, "requirements-jupyter.txt");
  assert.equal(venvUpToDate(dir, lab), true);
  assert.equal(venvUpToDate(dir, path.join(reqDir, "requirements-hub.txt")), false, "a Lab-only venv lacks the Hub");
  fs.appendFileSync(lab, "plotly==7.1.0\n");
  assert.equal(venvUpToDate(dir, lab), false, "changed pins: reinstall");
});

test("a Hub venv also serves the Lab requirements it includes, and notices a change in them", (t) => {
  const { dir, reqDir } = fakeVenv(t);
  stamp(dir, reqDir, "requirements-hub.txt");
  assert.equal(venvUpToDate(dir, path.join(reqDir, "requirements-hub.txt")), true);
  assert.equal(venvUpToDate(dir, path.join(reqDir, "requirements-jupyter.txt")), true);
  fs.appendFileSync(path.join(reqDir, "requirements-jupyter.txt"), "plotly==7.1.0\n");
  assert.equal(venvUpToDate(dir, path.join(reqDir, "requirements-jupyter.txt")), false);
});

test("the committed requirements pin every package to one version", () => {
  for (const file of ["requirements-jupyter.txt", "requirements-hub.txt"]) {
    const lines = fs.readFileSync(path.join(projectRoot(), file), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    for (const line of lines) assert.match(line, /^(-r \S+|[A-Za-z0-9_.-]+==[0-9][^\s;]*)$/, `${file}: "${line}" is not an exact pin`);
  }
  const lab = fs.readFileSync(path.join(projectRoot(), "requirements-jupyter.txt"), "utf8");
  assert.match(lab, /^jupyterlab==4\./m);
  assert.match(lab, /^plotly==/m, "plotly's JupyterLab renderer draws the charts");
});

test("npm start prefers the course venv, then jupyter on PATH, else says what to run", () => {
  assert.deepEqual(chooseJupyter("/c/.venv-jupyter/bin", true), { kind: "venv", binDir: "/c/.venv-jupyter/bin" });
  assert.deepEqual(chooseJupyter(undefined, true), { kind: "path" });
  const none = chooseJupyter(undefined, false);
  assert.equal(none.kind, "none");
  assert.match(NO_JUPYTER_MESSAGE, /npm run jupyter:install/);
  assert.match(NO_JUPYTER_MESSAGE, /python3-venv/);
});

test("as root, npm start adds --allow-root once and says so; not otherwise", () => {
  const r = rootArgs(0, ["--port", "9999"]);
  assert.deepEqual(r.args, ["--port", "9999", "--allow-root"]);
  assert.match(r.note ?? "", /root.*--allow-root/);
  assert.deepEqual(rootArgs(0, ["--allow-root"]), { args: ["--allow-root"] });
  assert.deepEqual(rootArgs(0, ["--ServerApp.allow_root=True"]), { args: ["--ServerApp.allow_root=True"] });
  assert.deepEqual(rootArgs(1000, []), { args: [] });
  assert.deepEqual(rootArgs(undefined, []), { args: [] }, "Windows has no uid");
});

test("the venv's bin folder goes first on PATH", () => {
  const env = envWithVenv("/c/.venv-jupyter/bin", { PATH: "/usr/bin", HOME: "/h" });
  assert.equal(env.PATH, ["/c/.venv-jupyter/bin", "/usr/bin"].join(path.delimiter));
  assert.equal(env.VIRTUAL_ENV, "/c/.venv-jupyter");
  assert.equal(env.HOME, "/h");
});
