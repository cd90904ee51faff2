/**
 * The PyTorch peer of the benchmark workloads: the same models as workloads.ts, as a python3 program.
 *
 * Model C matches ours layer for layer: conv+ReLU, conv+ReLU, BatchNorm, max-pool, Dropout(0.2) per block. Ours ends
 * in softmax + categorical cross-entropy, the peer in logits + CrossEntropyLoss: the same loss, computed stably.
 * Tensors are NCHW here and NHWC in TensorFlow.js; the work per step is the same.
 */
import { loadExeca } from "../kernel/load-execa";
import { TRANSFER_WORKLOADS, torchTransferSource } from "./transfer";

/** What the peer program prints as its last line. */
export interface TorchRun {
  timesMs: number[];
  peakRssMB: number;
  /** torch.get_num_threads() after setting it: the threads it really used. */
  threads: number;
}

/** The python3 interpreter to use: LESSONS_PYTHON (e.g. /usr/bin/python3 for Debian's python3-torch) or python3. */
export function torchPython(env: NodeJS.ProcessEnv = process.env): string {
  return env.LESSONS_PYTHON || "python3";
}

/** The peer's environment: torch's OpenMP and MKL pools sized to `threads` as well as torch.set_num_threads. */
export function torchEnv(threads: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const n = String(threads);
  return { ...env, OMP_NUM_THREADS: n, MKL_NUM_THREADS: n };
}

export function torchPeerScript(workload: string, warmup: number, steps: number, threads: number): string {
  if (!/^[A-F]$/.test(workload)) throw new Error(`Unknown workload "${workload}" for the PyTorch peer; choose from A, B, C, D, E, F.`);
  const transfer = TRANSFER_WORKLOADS.find((w) => w.id === workload);
  if (transfer) return torchPeerHeader(workload, threads) + torchTransferSource(transfer) + torchTimingLoop(warmup, steps, "step(x, y)");
  return torchPeerHeader(workload, threads) + `
def cifar(bn):
    layers, cin = [], 3
    for f in (32, 64, 128):
        for _ in range(2):
            layers += [nn.Conv2d(cin, f, 3, padding=1), nn.ReLU()]; cin = f
        if bn: layers.append(nn.BatchNorm2d(f))
        layers.append(nn.MaxPool2d(2))
        if bn: layers.append(nn.Dropout(0.2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 16, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
def mobile():
    layers = [nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU()]; cin = 32
    for f, s in ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1)):
        layers += [nn.Conv2d(cin, cin, 3, stride=s, padding=1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(),
                   nn.Conv2d(cin, f, 1, bias=False), nn.BatchNorm2d(f), nn.ReLU()]; cin = f
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10))
if W == "A":
    model = nn.Sequential(nn.Conv2d(3, 50, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(50, 50, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(50 * 14 * 14, 50), nn.ReLU(), nn.Linear(50, 10)); size, batch = 64, 32
elif W == "B": model, size, batch = cifar(False), 32, 128
elif W == "C": model, size, batch = cifar(True), 32, 128
else: model, size, batch = mobile(), 32, 64
model.train()
opt = torch.optim.Adam(model.parameters(), 1e-3)
loss_fn = nn.CrossEntropyLoss()
` + torchTimingLoop(warmup, steps, "opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); opt.step(); loss.item()");
}

function torchPeerHeader(workload: string, threads: number): string {
  return `
import json, resource, time, torch, torch.nn as nn
torch.set_num_threads(${threads})
W = "${workload}"
`;
}

/** Times \`stepCode\` (Python, one line) on a fixed random batch and prints the run's JSON line. */
function torchTimingLoop(warmup: number, steps: number, stepCode: string): string {
  return `x = torch.randn(batch, 3, size, size); y = torch.randint(0, 10, (batch,)); times = []
for i in range(${warmup + steps}):
    t0 = time.perf_counter(); ${stepCode}
    if i >= ${warmup}: times.append((time.perf_counter() - t0) * 1000)
print(json.dumps({"timesMs": times, "threads": torch.get_num_threads(),
                  "peakRssMB": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
`;
}

/** Runs a program to completion and returns its stdout; throws execa's error (with .stderr) on failure. */
async function run(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeout: number }): Promise<{ stdout: string }> {
  const { execa } = await loadExeca();
  const r = await execa(file, args, { ...options, maxBuffer: 16 * 1024 * 1024 });
  return { stdout: r.stdout };
}

/** Torch's version, or an Error saying why python3 cannot import it and how to get it. */
export async function torchVersion(python = torchPython()): Promise<string | Error> {
  try {
    const { stdout } = await run(python, ["-c", "import torch; print(torch.__version__)"], { timeout: 120_000 });
    return stdout.trim();
  } catch (err) {
    const e = err as { stderr?: string; code?: unknown; message: string };
    const why = String(e.stderr ?? "").trim().split("\n").pop() || e.message.split("\n")[0];
    return new Error(
      `${python} cannot import torch (${why}). Install Debian's build with \`apt-get install -y python3-torch\` ` +
        `and run with LESSONS_PYTHON=/usr/bin/python3 (a pyenv or venv python3 earlier on PATH hides it).`,
    );
  }
}

/** Runs the peer for one workload in a fresh python3 process. */
export async function runTorchPeer(workload: string, warmup: number, steps: number, threads: number, python = torchPython()): Promise<TorchRun> {
  const { stdout } = await run(python, ["-c", torchPeerScript(workload, warmup, steps, threads)], {
    env: torchEnv(threads),
    timeout: 1_200_000,
  });
  const line = stdout.trim().split("\n").pop() ?? "";
  const r = JSON.parse(line) as TorchRun;
  if (!Array.isArray(r.timesMs)) throw new Error(`The PyTorch peer printed no step times: ${line.slice(0, 200)}`);
  return r;
}
