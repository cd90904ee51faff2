import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { hubConfig, type HubConfigOptions } from "./hub-config";
import { projectRoot } from "../../lib/paths";
import { readyVenvBin } from "../../scripts/jupyter/venv";

const opts: HubConfigOptions = {
  dir: "/tmp/hub-x", checkout: "/srv/course", venvBin: "/srv/course/.venv-jupyter/bin", proxyCommand: "/srv/course/node_modules/.bin/configurable-http-proxy",
  port: 8000, hubPort: 8081, proxyApiPort: 8001, learners: ["ann", "bo"], serviceToken: "t0k", environment: { LESSONS_DATA_DIR: "/srv/data" }, asRoot: false,
};

test("the Hub listens on 127.0.0.1 only, with the dummy authenticator for the listed learners and local processes", () => {
  const cfg = hubConfig(opts);
  assert.match(cfg, /^c\.JupyterHub\.ip = "127\.0\.0\.1"$/m);
  assert.match(cfg, /^c\.JupyterHub\.hub_ip = "127\.0\.0\.1"$/m);
  assert.match(cfg, /api_url = "http:\/\/127\.0\.0\.1:8001"/);
  assert.match(cfg, /^c\.ConfigurableHTTPProxy\.pid_file = "\/tmp\/hub-x\/proxy\.pid"$/m);
  assert.match(cfg, /authenticator_class = "dummy"/);
  assert.match(cfg, /allowed_users = set\(\["ann","bo"\]\)/);
  assert.match(cfg, /spawner_class = "simple"/);
  assert.match(cfg, /home_dir_template = "\/tmp\/hub-x\/home\/\{username\}"/);
  assert.match(cfg, /"LESSONS_DATA_DIR": "\/srv\/data"/);
  assert.match(cfg, /c\.Spawner\.args = \[\]/);
  assert.match(hubConfig({ ...opts, asRoot: true }), /c\.Spawner\.args = \["--allow-root"\]/);
});

test("the generated configuration is valid Python, and its hook gives a learner copies of the notebooks and links to lib and node_modules", (t) => {
  const bin = readyVenvBin(projectRoot());
  if (!bin) {
    t.skip("needs the course's Jupyter environment (npm run jupyter:install)");
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hub-config-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const course = path.join(dir, "course");
  fs.mkdirSync(path.join(course, "notebooks"), { recursive: true });
  fs.mkdirSync(path.join(course, "lib"));
  fs.mkdirSync(path.join(course, "node_modules"));
  fs.writeFileSync(path.join(course, "notebooks", "00-a.ipynb"), "{}");
  const cfgFile = path.join(dir, "jupyterhub_config.py");
  fs.writeFileSync(cfgFile, hubConfig({ ...opts, dir, checkout: course }));
  const home = path.join(dir, "home", "ann");
  // Run the config with a stand-in `c`, then call the hook as the Hub would before starting ann's server.
  const script = `
import types
class C(dict):
    def __getattr__(self, k):
        return self.setdefault(k, types.SimpleNamespace())
c = C()
exec(open(${JSON.stringify(cfgFile)}).read(), {"c": c})
hook = c.Spawner.pre_spawn_hook
spawner = types.SimpleNamespace(home_dir=${JSON.stringify(home)})
hook(spawner)
open(${JSON.stringify(path.join("HOME", "cnn-lessons", "00-a.ipynb"))}.replace("HOME", spawner.home_dir), "w").write("learner's work")
hook(spawner)  # a second start keeps the learner's own copies
print("ok")
`;
  assert.equal(execFileSync(path.join(bin, "python"), ["-c", script], { encoding: "utf8" }).trim(), "ok");
  const folder = path.join(home, "cnn-lessons");
  assert.equal(fs.readFileSync(path.join(folder, "00-a.ipynb"), "utf8"), "learner's work");
  assert.equal(fs.readlinkSync(path.join(folder, "lib")), path.join(course, "lib"));
  assert.equal(fs.readlinkSync(path.join(folder, "node_modules")), path.join(course, "node_modules"));
});
