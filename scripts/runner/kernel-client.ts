/**
 * A fresh tslab kernel process and a client that talks to it over ZeroMQ, as Jupyter would.
 *
 * Dead-kernel detection uses the process exit, not the heartbeat: tslab answers heartbeats on its main thread,
 * so a long synchronous cell would look dead.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zmq from "zeromq";
import { address, type ConnectionInfo, newConnectionInfo, writeConnectionFile } from "./connection";
import { decodeMessage, encodeMessage, type Message, makeMessage, newSessionId } from "./protocol";
import type { Output } from "./nbformat";
import { applyIopubMessage, type CellOutputs, NO_OUTPUTS, outputFromMessage } from "./iopub";
import { loadExeca } from "../kernel/load-execa";
import { KERNEL_NAME, kernelPreloadScript, tslabBin } from "../kernel/kernelspec";

export interface KernelOptions {
  /** The kernel's working directory: the notebook's folder, as under Jupyter. */
  cwd: string;
  /** Project root holding node_modules/tslab. */
  root: string;
  startupTimeoutMs?: number;
  env?: Record<string, string>;
  /** Aborting stops the start-up (the kernel is killed) or the running cell (it is interrupted). */
  signal?: AbortSignal;
  /** Sees every iopub message (to record them for tests). */
  onIopub?: (msg: Message) => void;
  /** The command that starts the kernel (default: this Node running the root's tslab), e.g. a kernel.json's argv. */
  argv?: (connectionFile: string) => string[];
  /** A process to start beside the kernel that makes it leave when the runner is gone (for kernels that cannot
   * preload parent-watch.cjs): its argv for the kernel's pid. */
  watcher?: (kernelPid: number) => string[];
  /** How to interrupt a cell, as a kernelspec's interrupt_mode: SIGINT (default, tslab) or an interrupt_request (Deno). */
  interruptMode?: "signal" | "message";
}

/** Thrown by Kernel.start when its AbortSignal fired. */
export class KernelStartAborted extends Error {
  constructor() {
    super("The kernel start was stopped.");
    this.name = "KernelStartAborted";
  }
}

/** "interrupted": the runner was told to stop (its AbortSignal fired) while the cell ran. */
export type CellStatus = "ok" | "error" | "timeout" | "dead" | "interrupted";

export interface CellRun {
  status: CellStatus;
  /** msg_id of the execute_request: late output of this cell shows up in `Kernel.lateStderr` under it. */
  msgId: string;
  executionCount: number | null;
  outputs: Output[];
  /** Everything the cell wrote to stderr (tslab's only error channel). */
  stderr: string;
}

interface Pending {
  state: CellOutputs;
  reply?: Message;
  onChange: () => void;
}

const SEND_TIMEOUT_MS = 2000;
/** How long a cell waits for the round trip that collects output sent after its idle. */
const DRAIN_TIMEOUT_MS = 2000;

class PortTakenError extends Error {
  constructor() {
    super("A kernel port was taken by another process.");
  }
}

class Lock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export class Kernel {
  private readonly session = newSessionId();
  private readonly shell: zmq.Dealer;
  private readonly control: zmq.Dealer;
  private readonly iopub: zmq.Subscriber;
  private readonly shellLock = new Lock();
  private readonly controlLock = new Lock();
  private readonly pending = new Map<string, Pending>();
  /** Stream text that arrived for cells already finished (e.g. a late unhandled rejection), by msg_id. */
  readonly lateStderr = new Map<string, string>();
  private exitInfo: string | undefined;
  private readonly exitListeners = new Set<() => void>();
  private readonly log: string[] = [];

  private constructor(
    private readonly info: ConnectionInfo,
    private readonly connectionFile: string,
    private readonly child: import("execa").ResultPromise,
    private readonly onIopubMessage?: (msg: Message) => void,
    private readonly interruptMode: "signal" | "message" = "signal",
  ) {
    this.shell = new zmq.Dealer({ sendTimeout: SEND_TIMEOUT_MS, linger: 0 });
    this.control = new zmq.Dealer({ sendTimeout: SEND_TIMEOUT_MS, linger: 0 });
    this.iopub = new zmq.Subscriber({ linger: 0 });
    this.shell.connect(address(info, info.shell_port));
    this.control.connect(address(info, info.control_port));
    this.iopub.connect(address(info, info.iopub_port));
    this.iopub.subscribe();
    const keepLog = (chunk: unknown) => {
      this.log.push(String(chunk));
      if (this.log.length > 200) this.log.shift();
    };
    child.stdout?.on("data", keepLog);
    child.stderr?.on("data", keepLog);
    void child.then((r) => this.markExited(r.signal ? `signal ${r.signal}` : `exit code ${r.exitCode}`));
    void this.readLoop(this.shell, (m) => this.onReply(m));
    void this.readLoop(this.control, (m) => this.onReply(m));
    void this.readLoop(this.iopub, (m) => this.onIopub(m));
  }

  /**
   * Starts a kernel in `cwd` and waits until it answers on shell and iopub. Retries with new ports when another
   * process took one of the free ports between our check and the kernel's bind.
   */
  static async start(options: KernelOptions): Promise<Kernel> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await Kernel.startOnce(options);
      } catch (e) {
        if (attempt >= 3 || !(e instanceof PortTakenError)) throw e;
      }
    }
  }

  /**
   * The kernel runs in its own process group (detached), so a Ctrl-C in the terminal reaches only the runner,
   * which interrupts the cell itself; the preload (kernel-preload.cjs) makes the kernel leave when the runner is gone.
   */
  private static async startOnce(options: KernelOptions): Promise<Kernel> {
    if (options.signal?.aborted) throw new KernelStartAborted();
    const { execa } = await loadExeca();
    const info = await newConnectionInfo(KERNEL_NAME);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-kernel-"));
    const file = writeConnectionFile(dir, info);
    const [command, ...args] = options.argv?.(file) ?? [process.execPath, "--require", kernelPreloadScript(options.root), tslabBin(options.root), "kernel", "--config-path", file];
    const child = execa(command!, args, {
      cwd: options.cwd,
      env: { LESSONS_KERNEL_PARENT_PID: String(process.pid), LESSONS_KERNEL_TMPDIR: dir, ...options.env },
      stdin: "ignore",
      buffer: false,
      reject: false,
      cleanup: true,
      detached: true,
    });
    if (options.watcher && child.pid) {
      const [watchCommand, ...watchArgs] = options.watcher(child.pid);
      const watch = spawn(watchCommand!, watchArgs, {
        env: { ...process.env, LESSONS_KERNEL_TMPDIR: dir, ...options.env },
        stdio: ["ignore", "ignore", "inherit"],
        detached: true,
      });
      watch.unref();
    }
    const kernel = new Kernel(info, file, child, options.onIopub, options.interruptMode);
    try {
      await kernel.waitReady(options.startupTimeoutMs ?? 120_000, options.signal);
    } catch (e) {
      await kernel.kill();
      throw e;
    }
    return kernel;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get dead(): boolean {
    return this.exitInfo !== undefined;
  }

  /** Why the process ended plus its last console lines, for error reports. */
  deathReport(): string {
    const tail = this.log.join("").trim().split("\n").slice(-15).join("\n");
    return `The kernel process died (${this.exitInfo ?? "unknown"}).` + (tail ? `\nKernel output:\n${tail}` : "");
  }

  private markExited(how: string): void {
    this.exitInfo ??= how;
    for (const l of this.exitListeners) l();
  }

  private async readLoop(sock: zmq.Dealer | zmq.Subscriber, handle: (m: Message) => void): Promise<void> {
    try {
      for await (const frames of sock) {
        try {
          handle(decodeMessage(this.info.key, frames));
        } catch (e) {
          this.log.push(`runner: dropped a message: ${(e as Error).message}\n`);
        }
      }
    } catch {
      // The socket was closed.
    }
  }

  private onReply(msg: Message): void {
    const p = this.pending.get(msg.parent_header.msg_id ?? "");
    if (p && !p.reply) {
      p.reply = msg;
      p.onChange();
    }
  }

  private onIopub(msg: Message): void {
    this.onIopubMessage?.(msg);
    const parentId = msg.parent_header.msg_id ?? "";
    const p = this.pending.get(parentId);
    if (p) {
      p.state = applyIopubMessage(p.state, msg);
      p.onChange();
      return;
    }
    const out = outputFromMessage(msg);
    if (out?.output_type === "stream" && out.name === "stderr") {
      this.lateStderr.set(parentId, (this.lateStderr.get(parentId) ?? "") + String(out.text));
    }
  }

  private send(channel: "shell" | "control", msg: Message<object>): Promise<void> {
    const [sock, lock] = channel === "shell" ? [this.shell, this.shellLock] : [this.control, this.controlLock];
    return lock.run(() => sock.send(encodeMessage(this.info.key, msg)));
  }

  /** Resolves when `done()` holds, or says why it stopped waiting. */
  private waitFor(p: Pending, done: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<"done" | "timeout" | "dead" | "aborted"> {
    return new Promise((resolve) => {
      const finish = (r: "done" | "timeout" | "dead" | "aborted") => {
        clearTimeout(timer);
        this.exitListeners.delete(onExit);
        signal?.removeEventListener("abort", onAbort);
        p.onChange = () => undefined;
        resolve(r);
      };
      const onExit = () => finish("dead");
      const onAbort = () => finish("aborted");
      const timer = setTimeout(() => finish("timeout"), timeoutMs);
      p.onChange = () => done() && finish("done");
      this.exitListeners.add(onExit);
      signal?.addEventListener("abort", onAbort);
      if (this.dead) finish("dead");
      else if (signal?.aborted) finish("aborted");
      else if (done()) finish("done");
    });
  }

  private track(msgId: string): Pending {
    const p: Pending = { state: NO_OUTPUTS, onChange: () => undefined };
    this.pending.set(msgId, p);
    return p;
  }

  /**
   * Retries kernel_info_request until both the reply and its iopub status arrive: the kernel's sockets may not
   * be bound yet, and a SUB socket misses messages published before its subscription reached the publisher.
   */
  private async waitReady(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (signal?.aborted) throw new KernelStartAborted();
      if (this.dead) throw new Error(`The kernel did not start. ${this.deathReport()}`);
      // tslab reports a failed bind only as an unhandled rejection and keeps running.
      if (/EADDRINUSE|Address already in use/i.test(this.log.join(""))) throw new PortTakenError();
      const msg = makeMessage(this.session, "kernel_info_request", {});
      const p = this.track(msg.header.msg_id);
      try {
        await this.send("shell", msg);
      } catch {
        // Send timed out: no peer yet. Try again.
      }
      const r = await this.waitFor(p, () => Boolean(p.reply && p.state.idle), 1000, signal);
      this.pending.delete(msg.header.msg_id);
      if (r === "done") return;
    }
    throw new Error(`The kernel did not answer within ${Math.round(timeoutMs / 1000)} s.\n${this.log.join("").slice(-2000)}`);
  }

  /**
   * Runs one cell. On timeout, or when `signal` fires, it interrupts (SIGINT: tslab's vm breakOnSigint stops
   * synchronous code too), gives the kernel `interruptGraceMs` to answer, and otherwise kills it.
   */
  async execute(code: string, timeoutMs: number, opts: { interruptGraceMs?: number; signal?: AbortSignal } = {}): Promise<CellRun> {
    const interruptGraceMs = opts.interruptGraceMs ?? 5000;
    const msg = makeMessage(this.session, "execute_request", {
      code,
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    });
    const p = this.track(msg.header.msg_id);
    const result = (status: CellStatus): CellRun => {
      this.pending.delete(msg.header.msg_id);
      const count = (p.reply?.content as { execution_count?: number } | undefined)?.execution_count ?? null;
      return { status, msgId: msg.header.msg_id, executionCount: count, outputs: p.state.outputs, stderr: p.state.stderr };
    };
    try {
      await this.send("shell", msg);
    } catch (e) {
      if (this.dead) return result("dead");
      p.state = { ...p.state, stderr: p.state.stderr + `The runner could not send the cell to the kernel: ${(e as Error).message}\n` };
      return result("error");
    }
    const replied = () => Boolean(p.reply);
    const r = await this.waitFor(p, replied, timeoutMs, opts.signal);
    if (r === "timeout" || r === "aborted") {
      this.interrupt();
      const after = await this.waitFor(p, replied, interruptGraceMs);
      if (after !== "done") await this.kill();
      if (r === "aborted") return result("interrupted");
      return result(after === "dead" ? "dead" : "timeout");
    }
    if (r === "dead") return result("dead");
    // tslab answers "abort" to requests that arrive within ~200 ms after a failed one.
    // Outputs end with the "idle" status; it follows the reply closely. Some come later: Deno's kernel (2.9) sends
    // a cell's last console output and displays through a queue that its idle skips, and tslab prints a rejection
    // nobody handled a moment after its reply. A kernel_info round trip while the cell's outputs are still
    // collected lets them arrive in the cell.
    await this.waitFor(p, () => p.state.idle, 2000);
    await this.sync(DRAIN_TIMEOUT_MS);
    const status = (p.reply!.content as { status?: string }).status;
    if (status !== "ok" && !p.state.stderr.trim() && !p.state.outputs.some((o) => o.output_type === "error")) {
      p.state = { ...p.state, stderr: this.silentFailureReport(status) };
    }
    return result(status === "ok" ? "ok" : "error");
  }

  /**
   * A failed reply with no error text in the cell (tslab does that when something fails outside the cell's own
   * code): what the kernel process printed last is the only clue, so it goes into the cell's error.
   */
  private silentFailureReport(status: string | undefined): string {
    const tail = this.log.join("").trim().split("\n").slice(-15).join("\n");
    return `The kernel answered "${status ?? "no status"}" without an error message.` +
      (tail ? ` Its last console output:\n${tail}\n` : " It printed nothing to its console.\n");
  }

  /**
   * A kernel_info round trip. The kernel handles requests in order, so output that the previous cell produced
   * just after its reply (tslab prints an unhandled rejection a moment later) has arrived once this returns.
   */
  async sync(timeoutMs = 10_000): Promise<void> {
    if (this.dead) return;
    const msg = makeMessage(this.session, "kernel_info_request", {});
    const p = this.track(msg.header.msg_id);
    try {
      await this.send("shell", msg);
      await this.waitFor(p, () => Boolean(p.reply && p.state.idle), timeoutMs);
    } catch {
      // A kernel that cannot answer is caught by the next execute.
    } finally {
      this.pending.delete(msg.header.msg_id);
    }
  }

  interrupt(): void {
    if (this.dead) return;
    if (this.interruptMode === "signal") {
      this.child.kill("SIGINT");
      return;
    }
    const msg = makeMessage(this.session, "interrupt_request", {});
    this.send("control", msg).catch(() => undefined); // an unreachable kernel is killed after the grace period
  }

  /** shutdown_request on the control channel, then SIGKILL if the process has not left after `graceMs`. */
  async shutdown(graceMs = 3000): Promise<void> {
    if (!this.dead) {
      const msg = makeMessage(this.session, "shutdown_request", { restart: false });
      const p = this.track(msg.header.msg_id);
      try {
        await this.send("control", msg);
        await this.waitFor(p, () => false, graceMs);
      } catch {
        // Unreachable kernel: killed below.
      }
      this.pending.delete(msg.header.msg_id);
    }
    await this.kill();
  }

  /** SIGKILL (if still running), wait for the exit, release sockets and the connection file. */
  async kill(): Promise<void> {
    if (!this.dead) this.child.kill("SIGKILL");
    await this.child;
    for (const s of [this.shell, this.control, this.iopub]) if (!s.closed) s.close();
    fs.rmSync(path.dirname(this.connectionFile), { recursive: true, force: true });
  }
}
