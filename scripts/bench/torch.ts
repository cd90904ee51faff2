/**
 * The PyTorch peer of the benchmark workloads: the same models as workloads.ts, as a python3 program.
 *
 * Models C, E and G match ours layer for layer (batch norm after the ReLU, dropout where ours has it, G's L2 penalty
 * added to the loss as TensorFlow.js adds it). Ours ends
 * in softmax + categorical cross-entropy, the peer in logits + CrossEntropyLoss: the same loss, computed stably.
 * Tensors are NCHW here and NHWC in TensorFlow.js; the work per step is the same.
 */
import { loadExeca } from "../kernel/load-execa";
import { TRANSFER_WORKLOADS, torchTransferSource } from "./transfer";
import { RESNET_WEIGHT_DECAY } from "./workloads";
import { CeilingResult, torchMatmulScript } from "./ceiling";
import { median } from "./stats";
import { pythonSetting } from "../../lib/config";

/** What the peer program prints as its last line. */
export interface TorchRun {
  timesMs: number[];
  peakRssMB: number;
  /** torch.get_num_threads() after setting it: the threads it really used. */
  threads: number;
}

/** The python3 interpreter to use: LESSONS_PYTHON (e.g. /usr/bin/python3 for Debian's python3-torch) or python3. */
export function torchPython(env: NodeJS.ProcessEnv = process.env): string {
  return pythonSetting(env) ?? "python3";
}

/** The peer's environment: torch's OpenMP and MKL pools sized to `threads` as well as torch.set_num_threads. */
export function torchEnv(threads: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const n = String(threads);
  return { ...env, OMP_NUM_THREADS: n, MKL_NUM_THREADS: n };
}

/** Workloads the peer knows (all of the benchmark's). */
export const TORCH_WORKLOADS = ["A", "B", "C", "D", "E", "F", "FT", "G"] as const;

export function torchPeerScript(workload: string, warmup: number, steps: number, threads: number): string {
  if (!(TORCH_WORKLOADS as readonly string[]).includes(workload)) {
    throw new Error(`Unknown workload "${workload}" for the PyTorch peer; choose from ${TORCH_WORKLOADS.join(", ")}.`);
  }
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
def lesson03():
    layers, cin = [], 3
    for f, drop in ((32, True), (64, True), (256, False)):
        for _ in range(2):
            layers += [nn.Conv2d(cin, f, 3, padding=1), nn.ReLU()]; cin = f
        layers += [nn.BatchNorm2d(f), nn.MaxPool2d(2)]
        if drop: layers.append(nn.Dropout(0.2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(256 * 16, 128), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10))
def mobile():
    layers = [nn.Conv2d(3, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU()]; cin = 32
    for f, s in ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1)):
        layers += [nn.Conv2d(cin, cin, 3, stride=s, padding=1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(),
                   nn.Conv2d(cin, f, 1, bias=False), nn.BatchNorm2d(f), nn.ReLU()]; cin = f
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10))
class ConvBlock(nn.Module):  # conv 3x3 without bias -> ReLU -> batch norm; its kernel carries the L2 penalty
    def __init__(self, cin, f, stride):
        super().__init__(); self.conv = nn.Conv2d(cin, f, 3, stride=stride, padding=1, bias=False); self.bn = nn.BatchNorm2d(f)
    def forward(self, x): return self.bn(torch.relu(self.conv(x)))
class Residual(nn.Module):
    def __init__(self, f): super().__init__(); self.block = ConvBlock(f, f, 1)
    def forward(self, x): return x + self.block(x)
class ResNet(nn.Module):  # seed 003's: 7x7 stem, 4 x (strided block + 2 residual blocks), global max pooling
    def __init__(self):
        super().__init__(); blocks, cin = [], 10
        self.stem = nn.Conv2d(3, 10, 7, padding=3)
        for f in (20, 40, 80, 160): blocks += [ConvBlock(cin, f, 2), Residual(f), Residual(f)]; cin = f
        self.blocks = nn.Sequential(*blocks); self.drop = nn.Dropout(0.1); self.fc = nn.Linear(160, 10)
    def forward(self, x): return self.fc(self.drop(torch.amax(self.blocks(torch.relu(self.stem(x))), dim=(2, 3))))
decay = []
if W == "A":
    model = nn.Sequential(nn.Conv2d(3, 50, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(50, 50, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(50 * 14 * 14, 50), nn.ReLU(), nn.Linear(50, 10)); size, batch = 64, 32
elif W == "B": model, size, batch = cifar(False), 32, 128
elif W == "C": model, size, batch = cifar(True), 32, 128
elif W == "D": model, size, batch = mobile(), 32, 64
elif W == "E": model, size, batch = lesson03(), 32, 128
else:
    model, size, batch = ResNet(), 32, 256
    decay = [m.conv.weight for m in model.modules() if isinstance(m, ConvBlock)]
model.train()
opt = torch.optim.Adam(model.parameters(), 1e-3)
loss_fn = nn.CrossEntropyLoss()
def loss_of(x, y):  # + the L2 penalty, computed in the loss as TensorFlow.js does
    loss = loss_fn(model(x), y)
    return loss + ${RESNET_WEIGHT_DECAY} * sum((w * w).sum() for w in decay) if decay else loss
` + torchTimingLoop(warmup, steps, "opt.zero_grad(); loss = loss_of(x, y); loss.backward(); opt.step(); loss.item()");
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

/** PyTorch's matrix multiply on the --ceiling shape with `threads` threads, in a fresh python3 process. */
export async function runTorchCeiling(threads: number, python = torchPython()): Promise<CeilingResult> {
  const { stdout } = await run(python, ["-c", torchMatmulScript(threads)], { env: torchEnv(threads), timeout: 600_000 });
  const rates = JSON.parse(stdout.trim().split("\n").pop() ?? "") as number[];
  if (!Array.isArray(rates) || !rates.length) throw new Error(`the matrix-multiply program printed no rates: ${stdout.slice(0, 200)}`);
  return { what: "pytorch", threads, bestGflops: Math.max(...rates), medianGflops: median(rates), trials: rates.length };
}
