/**
 * `npm run test:hub [-- --learners 3 --timeout 900]`: the classroom-server check. Starts a real JupyterHub
 * (pinned in requirements-hub.txt; `npm run jupyter:install -- --hub`) on 127.0.0.1 only, with the dummy
 * authenticator and local-process spawner. Each learner logs in through the Hub's REST API (a token requested
 * with username and password), starts their server, and runs 00-setup-check with the course kernel; all learners
 * at the same time. Checks: every cell of every run succeeds and the page prints its verdict ("ready", or what is
 * missing on this machine, such as data not yet downloaded), each learner's executed notebook is saved in their
 * own home, a learner cannot reach another's server, an unknown user cannot log in. Everything it started is
 * stopped (servers, kernels, proxy, Hub) within the time bound, and the check fails if a process is left.
 * Exits 0 passed, 1 failed, 2 when the Hub environment is missing.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { spawn, spawnSync, type ChildProcess } from "child_process";
import { Command } from "commander";
import { KERNEL_NAME } from "./kernel/kernelspec";
import { dataMirrorSetting } from "../lib/config";
import { HUB_REQUIREMENTS, envWithVenv, venvBin, venvDir, venvUpToDate } from "./jupyter/venv";
import { readNotebook } from "./runner/nbformat";
import { freePort, processesMentioning, sleep } from "../test/browser/server";
import { hubConfig, proxyPidFile } from "../test/hub/hub-config";
import { api, runCells, startSession, type RemoteServer } from "../test/hub/remote-notebook";

const root = path.resolve(__dirname, "..");

interface LearnerResult {
  name: string;
  passed: boolean;
  seconds: number;
  detail: string;
}

/** Logs in through the REST API: POST /hub/api/users/<name>/tokens with the password in the body. */
async function login(hub: string, name: string, password: string): Promise<Response> {
  return fetch(`${hub}/hub/api/users/${name}/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ auth: { username: name, password }, note: "course check", expires_in: 3600 }),
    signal: AbortSignal.timeout(30_000),
  });
}

async function waitForServer(hub: string, name: string, token: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await fetch(`${hub}/hub/api/users/${name}`, { headers: { Authorization: `token ${token}` }, signal: AbortSignal.timeout(30_000) });
    const user = (await r.json()) as { servers?: Record<string, { ready?: boolean }> };
    if (user.servers?.[""]?.ready) return;
    if (Date.now() > until) throw new Error(`${name}'s server did not become ready within ${timeoutMs / 1000}s`);
    await sleep(1000);
  }
}

/** One learner, start to finish, through the Hub and its proxy like a browser would. */
async function learnerRun(hub: string, name: string, cellTimeoutMs: number): Promise<LearnerResult> {
  const t0 = Date.now();
  const res = await login(hub, name, "any-password-works-with-the-dummy-authenticator");
  if (res.status !== 200 && res.status !== 201) throw new Error(`${name} could not log in: HTTP ${res.status}`);
  const { token } = (await res.json()) as { token: string };
  const start = await fetch(`${hub}/hub/api/users/${name}/server`, { method: "POST", headers: { Authorization: `token ${token}` } });
  if (![201, 202].includes(start.status)) throw new Error(`${name}'s server did not start: HTTP ${start.status} ${await start.text()}`);
  await waitForServer(hub, name, token, 180_000);
  const server: RemoteServer = { base: `${hub}/user/${name}/`, token };
  const nbPath = "00-setup-check.ipynb";
  const nb = readNotebook(path.join(root, "notebooks", nbPath));
  const { kernel } = await startSession(server, nbPath, KERNEL_NAME);
  const cells = await runCells(server, kernel, nb, cellTimeoutMs);
  const failed = cells.find((c) => c.status !== "ok");
  const lastText = cells.at(-1)?.outputs.outputs.map((o) => ("text" in o ? String(o.text) : "")).join("") ?? "";
  const save = await api(server, `api/contents/${nbPath}`, { method: "PUT", body: JSON.stringify({ type: "notebook", format: "json", content: nb }) });
  const seconds = (Date.now() - t0) / 1000;
  if (failed) {
    const text = failed.outputs.stderr || failed.outputs.outputs.map((o) => JSON.stringify(o).slice(0, 300)).join("\n");
    return { name, passed: false, seconds, detail: `cell ${failed.index} ended "${failed.status}": ${text.slice(0, 600)}` };
  }
  const verdict = /^(ready|not ready yet:)/m.exec(lastText)?.[1];
  if (!verdict) return { name, passed: false, seconds, detail: `the last cell printed no verdict: ${lastText.slice(0, 300)}` };
  if (!save.ok) return { name, passed: false, seconds, detail: `saving the executed notebook failed: HTTP ${save.status}` };
  return { name, passed: true, seconds, detail: `${cells.length} cells, ${cells.map((c) => c.seconds.toFixed(0)).join("+")} s; verdict "${verdict}"` };
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once("exit", () => r()));
}

async function main(): Promise<number> {
  const program = new Command()
    .name("test-hub")
    .option("--learners <n>", "learners at the same time", "3")
    .option("--timeout <seconds>", "limit for the whole check", "900")
    .parse();
  const opts = program.opts<{ learners: string; timeout: string }>();
  const count = Number(opts.learners);
  const timeoutMs = Number(opts.timeout) * 1000;
  if (!Number.isInteger(count) || count < 1 || !(timeoutMs > 0)) throw new Error("--learners needs a whole number >= 1 and --timeout a positive number");
  const venv = venvDir(root);
  if (!venvUpToDate(venv, path.join(root, HUB_REQUIREMENTS))) {
    console.error("JupyterHub is not installed in the course's Jupyter environment. Install it: npm run jupyter:install -- --hub");
    return 2;
  }
  if (typeof WebSocket === "undefined") throw new Error("This check needs a global WebSocket: Node 22, or run it as `npm run test:hub` (Node 20 + --experimental-websocket).");
  // The course kernel for every learner, registered as a school would (README, "Teaching on a shared server", step 2):
  // into the Jupyter environment the learners' servers run from.
  const install = spawnSync("npm", ["run", "--silent", "kernel:install", "--", "--sys-prefix"], { cwd: root, encoding: "utf8", timeout: 120_000 });
  if (install.status !== 0) throw new Error(`npm run kernel:install -- --sys-prefix failed:\n${install.stdout}${install.stderr}`);
  console.log(install.stdout.split("\n")[0]);
  const deadline = Date.now() + timeoutMs;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cnn-hub-check-"));
  const bin = path.dirname(venvBin(venv, "jupyterhub"));
  const learners = Array.from({ length: count }, (_, i) => `learner${i + 1}`);
  const [port, hubPort, proxyApiPort] = [await freePort(), await freePort(), await freePort()];
  const hub = `http://127.0.0.1:${port}`;
  const serviceToken = crypto.randomBytes(24).toString("hex");
  const environment: Record<string, string> = { LESSONS_DATA_DIR: path.join(root, "data") };
  const mirror = dataMirrorSetting(); // the learners' servers see the same mirror (or none) as this check
  if (mirror !== undefined) environment.LESSONS_DATA_MIRROR = mirror ?? "none";
  fs.writeFileSync(path.join(dir, "jupyterhub_config.py"), hubConfig({
    dir, checkout: root, venvBin: bin, proxyCommand: path.join(root, "node_modules", ".bin", "configurable-http-proxy"),
    port, hubPort, proxyApiPort, learners, serviceToken, environment, asRoot: process.getuid?.() === 0,
  }));

  const log: string[] = [];
  const hubProc = spawn(path.join(bin, "jupyterhub"), ["-f", path.join(dir, "jupyterhub_config.py")], {
    cwd: dir, detached: true, stdio: ["ignore", "pipe", "pipe"], env: envWithVenv(bin),
  });
  hubProc.stdout?.on("data", (d: Buffer) => log.push(d.toString()));
  hubProc.stderr?.on("data", (d: Buffer) => log.push(d.toString()));
  const serverPids: number[] = [];
  let ok = false;
  const t0 = Date.now();
  try {
    for (;;) {
      if (hubProc.exitCode !== null) throw new Error(`jupyterhub exited (code ${hubProc.exitCode})`);
      if (Date.now() > t0 + 120_000) throw new Error("JupyterHub did not answer within 120 s");
      const up = await fetch(`${hub}/hub/api/`, { signal: AbortSignal.timeout(3000) }).then((r) => r.ok, () => false);
      if (up) break;
      await sleep(500);
    }
    const version = ((await (await fetch(`${hub}/hub/api/`)).json()) as { version: string }).version;
    console.log(`JupyterHub ${version} on ${hub} (127.0.0.1 only); ${count} learners run 00-setup-check at the same time`);

    const refused = await login(hub, "intruder", "x");
    const runs = learners.map((name) => learnerRun(hub, name, Math.max(60_000, deadline - Date.now())).catch((e: Error) => ({
      name, passed: false, seconds: (Date.now() - t0) / 1000, detail: e.message,
    })));
    const timeLeft = deadline - Date.now();
    const results = await Promise.race([
      Promise.all(runs),
      sleep(timeLeft).then(() => learners.map((name) => ({ name, passed: false, seconds: timeLeft / 1000, detail: "did not finish within --timeout" }))),
    ]);
    const failures: string[] = [];
    for (const r of results) {
      console.log(`  ${r.name}: ${r.passed ? "passed" : "FAILED"} in ${r.seconds.toFixed(0)} s (${r.detail})`);
      if (!r.passed) failures.push(`${r.name}: ${r.detail}`);
    }
    const unsaved = failures.length;
    for (const name of learners) {
      const saved = path.join(dir, "home", name, "cnn-lessons", "00-setup-check.ipynb");
      const outputs = fs.existsSync(saved) ? readNotebook(saved).cells.filter((c) => c.cell_type === "code" && c.outputs.length).length : 0;
      if (outputs === 0) failures.push(`${name}'s executed notebook is not in their home (${saved})`);
    }
    if (failures.length === unsaved) console.log(`  each learner's executed 00-setup-check.ipynb is saved under their own home (${path.join(dir, "home", "<learner>", "cnn-lessons")})`);
    if (refused.status !== 403) failures.push(`an unknown user got HTTP ${refused.status} instead of 403 when logging in`);
    // Learner 1's token must not open learner 2's server.
    if (count >= 2) {
      const t1 = (await (await login(hub, learners[0]!, "x")).json()) as { token: string };
      const cross = await fetch(`${hub}/user/${learners[1]}/api/status`, { headers: { Authorization: `token ${t1.token}` }, redirect: "manual" });
      if (cross.status === 200) failures.push(`${learners[0]}'s token opened ${learners[1]}'s server`);
      else console.log(`  ${learners[0]}'s token on ${learners[1]}'s server: HTTP ${cross.status} (refused)`);
    }
    // The servers' process ids, to check they are gone afterwards.
    const users = (await (await fetch(`${hub}/hub/api/users?include_stopped_servers=false`, { headers: { Authorization: `token ${serviceToken}` } })).json()) as
      { servers?: Record<string, { state?: { pid?: number } }> }[];
    for (const u of users) for (const s of Object.values(u.servers ?? {})) if (s.state?.pid) serverPids.push(s.state.pid);
    if (failures.length) console.error(`JupyterHub check FAILED:\n  - ${failures.join("\n  - ")}`);
    else ok = true;
  } catch (e) {
    console.error(`JupyterHub check FAILED: ${(e as Error).message}\n--- jupyterhub log (tail) ---\n${log.join("").slice(-4000)}`);
  } finally {
    ok = (await stopEverything(hub, serviceToken, learners, hubProc, serverPids, dir, deadline)) && ok;
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`JupyterHub check ${ok ? "passed" : "FAILED"} in ${((Date.now() - t0) / 1000).toFixed(0)} s.`);
  return ok ? 0 : 1;
}

/**
 * Stops the learners' servers through the API, then the Hub (which stops the proxy), within the check's --timeout
 * (at least a minute from now: a spawner alone may take 20 s to stop a server); kills what is left and fails then.
 */
async function stopEverything(hub: string, token: string, learners: string[], hubProc: ChildProcess, serverPids: number[], dir: string, deadline: number): Promise<boolean> {
  const until = Math.max(deadline, Date.now() + 60_000);
  await Promise.all(learners.map((name) =>
    fetch(`${hub}/hub/api/users/${name}/server`, { method: "DELETE", headers: { Authorization: `token ${token}` }, signal: AbortSignal.timeout(30_000) })
      .catch(() => undefined)));
  while (serverPids.some(alive) && Date.now() < until) await sleep(500);
  try {
    process.kill(-hubProc.pid!, "SIGTERM");
  } catch {
    /* gone */
  }
  await Promise.race([exited(hubProc), sleep(Math.max(15_000, until - Date.now()))]);
  // The proxy has its own session, so the Hub's group does not hold it: it is gone once the Hub cleaned up.
  const proxy = fs.existsSync(proxyPidFile(dir)) ? Number(fs.readFileSync(proxyPidFile(dir), "utf8").trim()) || 0 : 0;
  const running = () => [...new Set([...serverPids, proxy].filter((pid) => pid > 0).concat(processesMentioning(dir)))].filter(alive);
  // The Hub signals the proxy and the kernels as it exits and does not wait for them: give them a few seconds to go.
  const grace = Date.now() + 10_000;
  while (running().length && Date.now() < grace) await sleep(250);
  const left = running();
  if (hubProc.exitCode === null && hubProc.signalCode === null) left.push(hubProc.pid!);
  const described = left.map((pid) => `${pid} (${commandLine(pid)})`);
  for (const pid of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  try {
    process.kill(-hubProc.pid!, "SIGKILL");
  } catch {
    /* the group is empty */
  }
  if (left.length) console.error(`  processes left running after the Hub stopped (killed): ${described.join(", ")}`);
  else console.log("  stopped: learners' servers and kernels, proxy, Hub; no process left");
  return left.length === 0;
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim().slice(0, 160) || "no command line";
  } catch {
    return "gone";
  }
}

/** Whether `pid` is running: a zombie (exited, waiting for a parent that may never reap it) is not. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // The state follows the command name in parentheses, which may itself contain ") ".
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`test-hub: ${(e as Error).message}`);
    process.exit(1);
  },
);
