/**
 * The checks behind notebooks/00-setup-check.ipynb: is this machine ready for class?
 * Each check says what it found and, when something is missing, exactly how to fix it.
 */
import * as fs from "fs";
import * as path from "path";
import { mirrorDir, readManifest } from "./data/cache";

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when `ok` is false. */
  fix?: string;
}

const MIN_NODE = [20, 19];

/** The Deno version when running under Deno (its Node compatibility then reports a Node.js version). */
function denoVersion(): string | undefined {
  return (globalThis as { Deno?: { version?: { deno?: string } } }).Deno?.version?.deno;
}

/**
 * Node.js must be at least 20.19: older versions cannot `require` the ESM-only packages tslab loads. Under Deno's
 * kernel the line also names Deno, whose Node compatibility reports the Node.js version it implements.
 */
export function checkNodeVersion(version: string = process.versions.node, deno: string | undefined = denoVersion()): CheckResult {
  const [major, minor] = version.split(".").map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return {
    name: "Node.js",
    ok,
    detail: deno ? `version ${version} (Deno ${deno}'s Node.js compatibility)` : `version ${version}`,
    fix: ok ? undefined : `Install Node.js ${MIN_NODE.join(".")} or newer (https://nodejs.org), then run npm install again.`,
  };
}

interface DatasetSource {
  name: string;
  cacheName: string;
  /** Files inside the mirror folder that make the dataset available offline. */
  mirrorFiles: string[];
  systemFiles?: string[];
  required: boolean;
}

const DATASETS: DatasetSource[] = [
  { name: "dollar-street", cacheName: "dollar-street", required: true,
    mirrorFiles: ["dollar-street/train_images.npy", "dollar-street/train_labels.npy", "dollar-street/test_images.npy", "dollar-street/test_labels.npy"] },
  { name: "cifar10", cacheName: "cifar10", required: false,
    mirrorFiles: ["cifar10/cifar10-train-jpg.tar.gz", "cifar10/cifar10-test-jpg.tar.gz", "cifar10/cifar10-labels-official-order.json"] },
  { name: "fashion-mnist", cacheName: "fashion-mnist", required: false, mirrorFiles: [],
    systemFiles: ["/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"] },
  { name: "mobilenet", cacheName: "mobilenet_v1_0.25_224", required: false,
    mirrorFiles: ["mobilenet_v1_0.25_224/model.json"] },
];

/** Where a dataset would come from right now, without downloading anything. */
export function checkDataset(source: DatasetSource, mirror: string | null = mirrorDir()): CheckResult {
  const cached = Object.keys(readManifest(source.cacheName));
  if (cached.length > 0) {
    return { name: `data: ${source.name}`, ok: true, detail: `in the cache (${cached.length} verified file(s))` };
  }
  if (mirror && source.mirrorFiles.length && source.mirrorFiles.every((f) => fs.existsSync(path.join(mirror, f)))) {
    return { name: `data: ${source.name}`, ok: true, detail: `available from the mirror ${mirror}` };
  }
  if (source.systemFiles?.every((f) => fs.existsSync(f))) {
    return { name: `data: ${source.name}`, ok: true, detail: "installed by the system package" };
  }
  const standIn = source.name === "dollar-street" ? " Until then the Dollar Street lessons use a generated stand-in." : "";
  return {
    name: `data: ${source.name}`,
    ok: false,
    detail: "not downloaded yet",
    fix: `Run \`npm run data -- ${source.name}\` while online (or set LESSONS_DATA_MIRROR to a course mirror folder).${standIn}`,
  };
}

export function checkDatasets(mirror: string | null = mirrorDir()): CheckResult[] {
  return DATASETS.map((d) => checkDataset(d, mirror));
}

/** The final verdict: "ready", or the list of what is missing and how to fix it. */
export function verdict(results: CheckResult[]): string {
  const failed = results.filter((r) => !r.ok);
  if (failed.length === 0) return "ready";
  return ["not ready yet:", ...failed.map((r) => `- ${r.name}: ${r.detail}. ${r.fix ?? ""}`.trimEnd())].join("\n");
}

/** A fixed-width table of the results, one line per check. */
export function formatResults(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length));
  return results.map((r) => `${r.ok ? "ok     " : "MISSING"}  ${r.name.padEnd(width)}  ${r.detail}`).join("\n");
}

/** The JavaScript backend trains far too slowly for the lessons; everything else is fine. */
export function checkBackend(info: { name: string; threads: number }): CheckResult {
  return {
    name: "backend",
    ok: info.name !== "cpu",
    detail: `${info.name}, ${info.threads} thread(s)`,
    fix:
      "Training on the plain JavaScript backend is far too slow. Run `npm install` again in the course folder and " +
      "check that @tensorflow/tfjs-backend-wasm is installed (see the README's troubleshooting section).",
  };
}

/** Collects check results over several notebook cells; `add` returns nothing, so cells do not echo a value. */
export class SetupReport {
  readonly results: CheckResult[] = [];

  add(...results: CheckResult[]): void {
    this.results.push(...results);
  }

  /** Prints the table of checks, then "ready" or what to fix. */
  print(): void {
    console.log(formatResults(this.results));
    console.log("");
    console.log(verdict(this.results));
  }
}
