/** Command-line options of scripts/bench.ts, parsed and checked (no TensorFlow.js here, so tests load it cheaply). */
import { Command } from "commander";

export const WORKLOAD_IDS = ["A", "B", "C", "D", "E", "F", "FT", "G"] as const;
export const BACKEND_CHOICES = ["node-gpu", "node", "wasm", "cpu"] as const;
export const RUNTIME_CHOICES = ["node", "deno"] as const;

export interface BenchOptions {
  workloads: string[];
  warmup: number;
  steps: number;
  rounds: number;
  json: boolean;
  torch: boolean;
  profile: boolean;
  /** Also measure this machine's limits: our matrix kernel on 1 and all threads, with and without FMA, and PyTorch's. */
  ceiling: boolean;
  /** Time CIFAR-10's first (decoding) and cached load (on by default; --no-data skips it). */
  data: boolean;
  top: number;
  backend?: (typeof BACKEND_CHOICES)[number];
  /** deno: also time our backend under the project's Deno, in every round, beside Node. */
  runtime: (typeof RUNTIME_CHOICES)[number];
  /** Internal: time one workload in this process and print its raw step times. */
  child?: string;
  /** Internal: time one CIFAR-10 load in this process. */
  childData: boolean;
}

function integer(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isInteger(n) || n < min) {
    throw new Error(`${name} must be a whole number >= ${min}; got "${raw}". Example: ${name} ${Math.max(min, 3)}`);
  }
  return n;
}

export function benchCommand(): Command {
  return new Command("bench")
    .description(
      "Benchmark training steps of workloads A-E and G, MobileNet inference (F) and fine-tuning (FT), on the selected TensorFlow.js backend.\n" +
        "Each round runs every contender once in a fresh process (ours, then PyTorch with our thread count and with 1 thread);\n" +
        "the reported step time is the median over all timed steps of all rounds.",
    )
    .option("-w, --workloads <ids>", `comma-separated workload ids (${WORKLOAD_IDS.join(",")})`, WORKLOAD_IDS.join(","))
    .option("--warmup <n>", "untimed warm-up steps in each process", "3")
    .option("--steps <n>", "timed steps in each process (with --profile: profiled steps)", "7")
    .option("--rounds <n>", "rounds of fresh processes per workload, alternating ours and the peers", "3")
    .option("--json", "print one JSON line per result")
    .option("--torch", "also run the PyTorch peer (python3 from LESSONS_PYTHON, default python3) with our thread count and with 1 thread")
    .option("--ceiling", "also measure this machine's limits: GFLOP/s of our matrix kernel (1 and all threads, with and without FMA) and of PyTorch's")
    .option("--no-data", "skip the CIFAR-10 load line (first decode and cached load)")
    .option("--profile", "instead of timing, print per-kernel times of one workload (tf.profile of trainOnBatch after warm-up)")
    .option("--top <n>", "with --profile: rows to print per table", "25")
    .option("--backend <name>", `force a backend (${BACKEND_CHOICES.join(", ")})`)
    .option("--runtime <name>", "deno: also time our backend under the project's Deno, beside Node (node: Node only)", "node")
    .option("--child <id>", "internal: run one workload in this process")
    .option("--child-data", "internal: time one CIFAR-10 load in this process")
    .exitOverride();
}

/** Parses user arguments (without node and script) and checks them; throws an Error that says how to fix a bad one. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const program = benchCommand();
  program.parse([...argv], { from: "user" });
  if (program.args.length) {
    throw new Error(`Unexpected argument(s) ${program.args.join(" ")}; options start with -- (see npm run bench -- --help).`);
  }
  const o = program.opts<{
    workloads: string; warmup: string; steps: string; rounds: string; top: string;
    json?: boolean; torch?: boolean; profile?: boolean; ceiling?: boolean; data: boolean; backend?: string; runtime: string; child?: string; childData?: boolean;
  }>();
  const workloads = o.workloads.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
  const known = WORKLOAD_IDS as readonly string[];
  const unknown = workloads.filter((id) => !known.includes(id));
  if (!workloads.length || unknown.length) {
    throw new Error(`Unknown workload(s) "${unknown.join(", ") || o.workloads}" in -w; choose from ${WORKLOAD_IDS.join(", ")} (e.g. -w A,C).`);
  }
  if (o.backend !== undefined && !(BACKEND_CHOICES as readonly string[]).includes(o.backend)) {
    throw new Error(`Unknown backend "${o.backend}" in --backend; choose from ${BACKEND_CHOICES.join(", ")}.`);
  }
  if (!(RUNTIME_CHOICES as readonly string[]).includes(o.runtime)) {
    throw new Error(`Unknown runtime "${o.runtime}" in --runtime; choose from ${RUNTIME_CHOICES.join(", ")} (deno times ours under Deno beside Node).`);
  }
  if (o.child !== undefined && !known.includes(o.child)) {
    throw new Error(`--child takes one workload id (${WORKLOAD_IDS.join(", ")}); got "${o.child}".`);
  }
  const opts: BenchOptions = {
    workloads: [...new Set(workloads)],
    warmup: integer("--warmup", o.warmup, 0),
    steps: integer("--steps", o.steps, 1),
    rounds: integer("--rounds", o.rounds, 1),
    top: integer("--top", o.top, 1),
    json: !!o.json,
    torch: !!o.torch,
    profile: !!o.profile,
    ceiling: !!o.ceiling,
    data: o.data !== false,
    childData: !!o.childData,
    backend: o.backend as BenchOptions["backend"],
    runtime: o.runtime as BenchOptions["runtime"],
    child: o.child,
  };
  if (opts.profile && opts.workloads.length !== 1) {
    throw new Error(`--profile looks at one workload at a time; pick one with -w (e.g. --profile -w C), not ${opts.workloads.join(",")}.`);
  }
  if (opts.profile && opts.torch) {
    throw new Error("--profile times the kernels of our backend only; drop --torch (or run the two separately).");
  }
  return opts;
}
