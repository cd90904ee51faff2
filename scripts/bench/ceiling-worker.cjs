/*
 * One thread of the benchmark's --ceiling measurement (scripts/bench/ceiling.ts): instantiates a build of our
 * kernels on a memory of its own and times conv2d_forward as a plain matrix product (a 1x1 convolution of
 * M pixels with K input and N output channels: the register-blocked 4-pixel x 8-channel tile every convolution
 * and matrix kernel of ours runs). Plain JavaScript, so that worker_threads can start it without a TypeScript loader.
 */
const fs = require("fs");
const { parentPort, workerData } = require("worker_threads");

const { modulePath, m, k, n, calls } = workerData;
const PAGE = 65536;
const STACK = 65536;
const bytesNeeded = STACK + 4 * (m * k + k * n + m * n) + 64;
const memory = new WebAssembly.Memory({ initial: Math.ceil(bytesNeeded / PAGE) + 1 });
const instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(modulePath)), { env: { memory } });
instance.exports.__stack_pointer.value = STACK - 16;
const a = STACK;
const b = a + 4 * m * k;
const c = b + 4 * k * n;
const heap = new Float32Array(memory.buffer);
for (let i = (a >> 2); i < (c >> 2); i++) heap[i] = ((i * 7919) % 1000) / 1000 - 0.5;
const gemm = () => instance.exports.conv2d_forward(a, b, c, 1, 1, m, k, 1, m, n, 1, 1, 1, 1);

parentPort.on("message", (msg) => {
  if (msg === "stop") return process.exit(0);
  gemm(); // warm: compiled code and caches
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) gemm();
  const ms = performance.now() - t0;
  parentPort.postMessage({ ms, flops: 2 * m * k * n * calls });
});
parentPort.postMessage("ready");
