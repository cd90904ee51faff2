/**
 * Runs a notebook's code cells on a Jupyter server that is reached over HTTP (here: a learner's server behind
 * JupyterHub's proxy), the way a browser does: a session from the REST API, then the kernel's websocket
 * (the JSON protocol of jupyter_server). Outputs are collected with the runner's pure iopub reducer.
 * Needs a global WebSocket: Node 22, or Node 20 with --experimental-websocket (npm run test:hub sets it).
 */
import { randomUUID } from "crypto";
import { applyIopubMessage, type CellOutputs, NO_OUTPUTS } from "../../scripts/runner/iopub";
import type { Message } from "../../scripts/runner/protocol";
import type { Notebook } from "../../scripts/runner/nbformat";
import { sourceText } from "../../scripts/runner/nbformat";

export interface RemoteServer {
  /** e.g. http://127.0.0.1:8000/user/ann/ (ending in a slash) */
  base: string;
  token: string;
}

export interface RemoteCellResult {
  index: number;
  status: string;
  seconds: number;
  outputs: CellOutputs;
}

export async function api(server: RemoteServer, route: string, init: RequestInit = {}): Promise<Response> {
  const r = await fetch(new URL(route, server.base), {
    ...init,
    headers: { Authorization: `token ${server.token}`, "Content-Type": "application/json", ...(init.headers ?? {}) },
    signal: init.signal ?? AbortSignal.timeout(60_000),
  });
  return r;
}

async function json<T>(r: Response, what: string): Promise<T> {
  if (!r.ok) throw new Error(`${what}: HTTP ${r.status} ${(await r.text()).slice(0, 300)}`);
  return (await r.json()) as T;
}

/** Opens `path` (relative to the server's root) as a notebook session with `kernelName`; returns the kernel id. */
export async function startSession(server: RemoteServer, path: string, kernelName: string): Promise<{ session: string; kernel: string }> {
  const s = await json<{ id: string; kernel: { id: string } }>(
    await api(server, "api/sessions", { method: "POST", body: JSON.stringify({ path, type: "notebook", name: "", kernel: { name: kernelName } }) }),
    `starting a ${kernelName} kernel for ${path}`,
  );
  return { session: s.id, kernel: s.kernel.id };
}

/** The kernel's websocket, with a way to wait for the messages answering one request. */
class KernelSocket {
  private readonly ws: WebSocket;
  private readonly waiters = new Map<string, (m: Message & { channel?: string }) => void>();
  private closedBecause: string | undefined;
  readonly opened: Promise<void>;

  constructor(server: RemoteServer, kernelId: string) {
    const url = new URL(`api/kernels/${kernelId}/channels`, server.base);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.searchParams.set("token", server.token);
    url.searchParams.set("session_id", randomUUID());
    this.ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.ws.addEventListener("open", () => resolve());
      this.ws.addEventListener("error", () => reject(new Error(`websocket to ${url.pathname} failed`)));
    });
    this.ws.addEventListener("message", (ev) => {
      const msg = JSON.parse(String(ev.data)) as Message & { channel?: string };
      const parent = msg.parent_header?.msg_id;
      if (parent) this.waiters.get(parent)?.(msg);
    });
    this.ws.addEventListener("close", (ev) => {
      this.closedBecause = `websocket closed (${ev.code} ${ev.reason})`;
      for (const w of this.waiters.values()) w({ header: { msg_type: "__closed" } } as Message);
    });
  }

  /** Sends one execute_request and resolves when both the reply and the idle status have arrived. */
  execute(code: string, timeoutMs: number): Promise<{ status: string; outputs: CellOutputs }> {
    const msgId = randomUUID();
    return new Promise((resolve) => {
      let outputs = NO_OUTPUTS;
      let status: string | undefined;
      const finish = (s: string) => {
        clearTimeout(timer);
        this.waiters.delete(msgId);
        resolve({ status: s, outputs });
      };
      const timer = setTimeout(() => finish("timeout"), timeoutMs);
      this.waiters.set(msgId, (msg) => {
        if (msg.header.msg_type === "__closed") return finish(this.closedBecause ?? "closed");
        if (msg.channel === "shell" && msg.header.msg_type === "execute_reply") status = String((msg.content as { status?: string }).status);
        if (msg.channel === "iopub") outputs = applyIopubMessage(outputs, msg);
        if (status !== undefined && outputs.idle) finish(status);
      });
      if (this.closedBecause) return finish(this.closedBecause);
      this.ws.send(JSON.stringify({
        header: { msg_id: msgId, msg_type: "execute_request", username: "course-check", session: randomUUID(), date: new Date().toISOString(), version: "5.3" },
        parent_header: {}, metadata: {}, channel: "shell", buffers: [],
        content: { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true },
      }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

/**
 * Runs every code cell of `nb` in order on the kernel, stopping at the first failure. `nb` gets the outputs
 * (so it can be saved back as the learner's executed notebook).
 */
export async function runCells(server: RemoteServer, kernelId: string, nb: Notebook, cellTimeoutMs: number): Promise<RemoteCellResult[]> {
  const socket = new KernelSocket(server, kernelId);
  await socket.opened;
  const results: RemoteCellResult[] = [];
  try {
    for (const [index, cell] of nb.cells.entries()) {
      if (cell.cell_type !== "code") continue;
      const t0 = Date.now();
      const { status, outputs } = await socket.execute(sourceText(cell.source), cellTimeoutMs);
      cell.outputs = outputs.outputs;
      results.push({ index, status, seconds: (Date.now() - t0) / 1000, outputs });
      if (status !== "ok") break;
    }
  } finally {
    socket.close();
  }
  return results;
}
