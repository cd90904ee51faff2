/**
 * A private Jupyter server for a browser check: its own config/data/runtime folders (no user settings, no user
 * kernels), the project kernelspec, a random token and port on 127.0.0.1. `stop()` shuts the kernels down through
 * the API, then stops the server's whole process group, and kills any kernel of ours that is still alive.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { spawn, type ChildProcess } from "child_process";
import { KERNEL_NAME, kernelJson } from "../../scripts/kernel/kernelspec";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface JupyterServer {
  origin: string;
  token: string;
  /** Private folder holding the server's config, data, runtime (connection files) and kernelspec. */
  home: string;
  log(): string;
  api(route: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** The jupyter executable (the venv's, or the one on PATH). */
  jupyter: string;
  /** "lab", "notebook" (classic 6) ... */
  subcommand: string;
  root: string;
  /** Extra command-line flags. */
  flags?: (port: number, token: string) => string[];
  /** Files to write under the private config folder (e.g. lab/user-settings/...), path -> JSON. */
  configFiles?: Record<string, unknown>;
  startTimeoutMs?: number;
}

/** Processes whose command line mentions `needle` (kernels started with a connection file in our folder). */
export function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(needle)) pids.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return pids;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once("exit", () => r()));
}

export async function startJupyterServer(opts: ServerOptions): Promise<JupyterServer> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "cnn-browser-check-"));
  const specDir = path.join(home, "share", "kernels", KERNEL_NAME);
  fs.mkdirSync(specDir, { recursive: true });
  fs.writeFileSync(path.join(specDir, "kernel.json"), JSON.stringify(kernelJson(opts.root), null, 2));
  for (const [rel, value] of Object.entries(opts.configFiles ?? {})) {
    const file = path.join(home, "config", rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(value, null, 2));
  }
  const port = await freePort();
  const token = crypto.randomBytes(16).toString("hex");
  const origin = `http://127.0.0.1:${port}`;
  const logLines: string[] = [];
  const args = [opts.subcommand, "--no-browser", "--ip=127.0.0.1", `--port=${port}`, ...(opts.flags?.(port, token) ?? [])];
  if (process.getuid?.() === 0) args.push("--allow-root");
  const child = spawn(opts.jupyter, args, {
    cwd: opts.root,
    detached: true, // its own process group, so stop() reaches kernels the server started
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      JUPYTER_PATH: path.join(home, "share"),
      JUPYTER_CONFIG_DIR: path.join(home, "config"),
      JUPYTER_RUNTIME_DIR: path.join(home, "runtime"),
      JUPYTER_DATA_DIR: path.join(home, "data"),
    },
  });
  child.stdout?.on("data", (d: Buffer) => logLines.push(d.toString()));
  child.stderr?.on("data", (d: Buffer) => logLines.push(d.toString()));
  const api = (route: string, init?: RequestInit) =>
    fetch(`${origin}${route}`, { ...init, headers: { Authorization: `token ${token}`, ...(init?.headers ?? {}) } });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      const sessions = (await (await api("/api/sessions", { signal: AbortSignal.timeout(5000) })).json()) as { id: string }[];
      await Promise.all(sessions.map((s) => api(`/api/sessions/${s.id}`, { method: "DELETE", signal: AbortSignal.timeout(10_000) })));
    } catch {
      /* the server may already be gone */
    }
    const group = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        /* already gone */
      }
    };
    group("SIGTERM");
    await Promise.race([exited(child), sleep(10_000)]);
    group("SIGKILL");
    // A kernel that left the group (setsid) still names its connection file, which lies in our folder.
    for (const pid of processesMentioning(home)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    fs.rmSync(home, { recursive: true, force: true });
  };

  const until = Date.now() + (opts.startTimeoutMs ?? 90_000);
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`jupyter ${opts.subcommand} exited early (code ${child.exitCode})`);
      if (Date.now() > until) throw new Error(`jupyter ${opts.subcommand} did not answer within ${(opts.startTimeoutMs ?? 90_000) / 1000}s`);
      try {
        if ((await api("/api/status", { signal: AbortSignal.timeout(3000) })).ok) break;
      } catch {
        /* not listening yet */
      }
      await sleep(300);
    }
  } catch (e) {
    const tail = logLines.join("").slice(-3000);
    await stop();
    throw new Error(`${(e as Error).message}\n--- jupyter log (tail) ---\n${tail}`);
  }
  return { origin, token, home, log: () => logLines.join(""), api, stop };
}
