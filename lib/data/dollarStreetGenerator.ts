/**
 * A synthetic stand-in for Dollar Street 10, for machines that cannot download the real files.
 *
 * It writes the same four .npy files in the same format (images int32 (N, 64, 64, 3) in 0..255, labels int64
 * 0..9, 878 training images). The test set has 98 images: that size is the stand-in's own choice. Each class is a
 * distinct shape or texture, drawn at a random position, scale, rotation and colour on a varied background with
 * noise, and sometimes a smaller object of another class as a distractor, so a small CNN can learn it, but not
 * trivially. Everything follows from the seed.
 */
import * as fs from "fs";
import * as path from "path";
import { encodeNpy } from "./npy";
import { mulberry32 } from "../random";

export const STANDIN_TRAIN_COUNT = 878;
export const STANDIN_TEST_COUNT = 98;
export const STANDIN_VERSION = 1;
const SIZE = 64;

type Rgb = [number, number, number];
/** A shape in object coordinates (u, v in about -1..1): returns 0 (background), 1 (main colour) or 2 (accent). */
type Painter = (u: number, v: number) => 0 | 1 | 2;

const inBox = (u: number, v: number, x0: number, x1: number, y0: number, y1: number) => u >= x0 && u <= x1 && v >= y0 && v <= y1;

/** One painter per class, in label order (the names only inspire the shapes). */
const PAINTERS: Painter[] = [
  // 0 day bed: long low base with a backrest and short legs
  (u, v) => (inBox(u, v, -0.95, 0.95, 0.0, 0.35) ? 1 : inBox(u, v, -0.95, -0.7, -0.5, 0.0) ? 2 : inBox(u, v, -0.9, -0.75, 0.35, 0.6) || inBox(u, v, 0.75, 0.9, 0.35, 0.6) ? 2 : 0),
  // 1 dishrag: a checked square cloth
  (u, v) => (Math.abs(u) < 0.75 && Math.abs(v) < 0.75 ? ((Math.floor((u + 1) * 5) + Math.floor((v + 1) * 5)) % 2 === 0 ? 1 : 2) : 0),
  // 2 plate: a disc with a darker rim
  (u, v) => {
    const r = Math.hypot(u, v * 1.15);
    return r < 0.6 ? 1 : r < 0.85 ? 2 : 0;
  },
  // 3 running shoe: a wedge with a stripe sole
  (u, v) => (v > 0.25 && v < 0.45 && Math.abs(u) < 0.9 ? 2 : v <= 0.25 && v > -0.5 && Math.abs(u) < 0.9 && v > 0.55 * u - 0.25 ? 1 : 0),
  // 4 soap dispenser: a tall bottle with a pump on top
  (u, v) => (inBox(u, v, -0.35, 0.35, -0.3, 0.9) ? 1 : inBox(u, v, -0.08, 0.08, -0.65, -0.3) || inBox(u, v, -0.08, 0.4, -0.75, -0.62) ? 2 : 0),
  // 5 street sign: a diamond on a pole
  (u, v) => (Math.abs(u) + Math.abs(v + 0.3) < 0.6 ? 1 : inBox(u, v, -0.06, 0.06, 0.3, 1.0) ? 2 : 0),
  // 6 table lamp: a trapezoid shade on a stem and foot
  (u, v) => (v > -0.8 && v < 0.0 && Math.abs(u) < 0.3 + (v + 0.8) * 0.4 ? 1 : inBox(u, v, -0.06, 0.06, 0.0, 0.7) || inBox(u, v, -0.35, 0.35, 0.7, 0.85) ? 2 : 0),
  // 7 tile roof: a triangle filled with wavy tile rows
  (u, v) => (v > -0.7 && v < 0.7 && Math.abs(u) < (v + 0.7) * 0.75 ? (Math.sin(u * 14) * 0.08 + v * 6) % 1.2 < 0.35 ? 2 : 1 : 0),
  // 8 toilet seat: an oval ring with a hinge bar
  (u, v) => {
    const r = Math.hypot(u * 1.1, v * 0.85);
    return r > 0.45 && r < 0.8 ? 1 : inBox(u, v, -0.5, 0.5, -0.98, -0.8) ? 2 : 0;
  },
  // 9 washing machine: a box with a round door
  (u, v) => (Math.hypot(u, v - 0.1) < 0.45 ? 2 : inBox(u, v, -0.8, 0.8, -0.85, 0.85) ? (inBox(u, v, -0.8, 0.8, -0.85, -0.65) ? 2 : 1) : 0),
];

function randomColour(rand: () => number): Rgb {
  return [rand() * 255, rand() * 255, rand() * 255];
}

/** Draw one 64x64 RGB image of `label` into `out` (float RGB, later rounded). */
function drawImage(label: number, rand: () => number, out: Float32Array): void {
  // Background: a gradient between two colours plus low-frequency blobs.
  const a = randomColour(rand);
  const b = randomColour(rand);
  const angle = rand() * Math.PI * 2;
  const [gx, gy] = [Math.cos(angle), Math.sin(angle)];
  const blobs = Array.from({ length: 3 }, () => ({ x: rand() * SIZE, y: rand() * SIZE, r: 8 + rand() * 20, c: randomColour(rand), w: 0.3 + rand() * 0.4 }));
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const t = Math.min(1, Math.max(0, 0.5 + ((x - 32) * gx + (y - 32) * gy) / 64));
      const o = (y * SIZE + x) * 3;
      for (let ch = 0; ch < 3; ch++) out[o + ch] = a[ch] * (1 - t) + b[ch] * t;
      for (const bl of blobs) {
        const d = Math.hypot(x - bl.x, y - bl.y) / bl.r;
        if (d < 1) for (let ch = 0; ch < 3; ch++) out[o + ch] += (bl.c[ch] - out[o + ch]) * bl.w * (1 - d);
      }
    }
  }
  // Sometimes a smaller distractor object of another class, drawn first (behind the main object).
  if (rand() < 0.35) {
    const other = (label + 1 + Math.floor(rand() * 9)) % 10;
    drawObject(other, 8 + rand() * 6, rand, out);
  }
  drawObject(label, 16 + rand() * 12, rand, out);
  // Sensor-like noise.
  for (let i = 0; i < out.length; i++) out[i] += (rand() + rand() + rand() - 1.5) * 24;
}

function drawObject(label: number, halfSize: number, rand: () => number, out: Float32Array): void {
  const cx = halfSize * 0.8 + rand() * (SIZE - 1.6 * halfSize);
  const cy = halfSize * 0.8 + rand() * (SIZE - 1.6 * halfSize);
  const rot = (rand() - 0.5) * 0.6;
  const [cos, sin] = [Math.cos(rot), Math.sin(rot)];
  const main = randomColour(rand);
  // Accent: a shifted version of the main colour, so the two always contrast.
  const accent = main.map((c) => (c + 90 + rand() * 80) % 256) as Rgb;
  const paint = PAINTERS[label];
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const dx = (x - cx) / halfSize;
      const dy = (y - cy) / halfSize;
      const part = paint(dx * cos + dy * sin, -dx * sin + dy * cos);
      if (part === 0) continue;
      const c = part === 1 ? main : accent;
      const o = (y * SIZE + x) * 3;
      for (let ch = 0; ch < 3; ch++) out[o + ch] = c[ch];
    }
  }
}

export interface GeneratedSplit {
  images: Int32Array;
  labels: BigInt64Array;
  count: number;
}

/** Generate one split deterministically from `seed`. Labels are balanced (count / 10 each) and shuffled. */
export function generateStandInSplit(count: number, seed: number): GeneratedSplit {
  const rand = mulberry32(seed);
  const order = Array.from({ length: count }, (_, i) => i % 10);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const images = new Int32Array(count * SIZE * SIZE * 3);
  const labels = new BigInt64Array(count);
  const pixel = new Float32Array(SIZE * SIZE * 3);
  for (let n = 0; n < count; n++) {
    drawImage(order[n], rand, pixel);
    const base = n * pixel.length;
    for (let i = 0; i < pixel.length; i++) images[base + i] = Math.max(0, Math.min(255, Math.round(pixel[i])));
    labels[n] = BigInt(order[n]);
  }
  return { images, labels, count };
}

export interface StandInOptions {
  seed?: number;
  trainCount?: number;
  testCount?: number;
}

/** Write train/test images/labels .npy files (Dollar Street 10 format) into `outDir`; returns the file paths. */
export function writeDollarStreetStandIn(outDir: string, opts: StandInOptions = {}): string[] {
  const seed = opts.seed ?? 2024;
  const splits = {
    train: generateStandInSplit(opts.trainCount ?? STANDIN_TRAIN_COUNT, seed),
    test: generateStandInSplit(opts.testCount ?? STANDIN_TEST_COUNT, seed + 1),
  };
  fs.mkdirSync(outDir, { recursive: true });
  const written: string[] = [];
  const write = (name: string, bytes: Uint8Array) => {
    const file = path.join(outDir, name);
    const temp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(temp, bytes);
    fs.renameSync(temp, file);
    written.push(file);
  };
  for (const [split, data] of Object.entries(splits)) {
    write(`${split}_images.npy`, encodeNpy(data.images, [data.count, SIZE, SIZE, 3], "<i4"));
    write(`${split}_labels.npy`, encodeNpy(data.labels, [data.count], "<i8"));
  }
  const stamp = { generator: "cnn-lessons-ts dollar street stand-in", version: STANDIN_VERSION, seed, train: splits.train.count, test: splits.test.count };
  write("STAND-IN.json", Buffer.from(JSON.stringify(stamp, null, 2) + "\n"));
  return written;
}
