/**
 * The benchmark's data line: how long CIFAR-10 takes to load the first time (the JPEG archives copied from the
 * mirror and all 60,000 images decoded into the pixel cache, lib/data/cifar10) and the second time (from that
 * cache), each in a fresh process with an empty data folder of its own.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadCifar10 } from "../../lib/data/cifar10";
import { mirrorDir } from "../../lib/data/cache";
import { loadExeca } from "../kernel/load-execa";

export interface DataLoadRun {
  ms: number;
  peakRssMB: number;
  images: number;
  source: string;
}

/** In the child: load all of CIFAR-10 once and report the time. */
export async function timeCifar10Load(): Promise<DataLoadRun> {
  const t0 = performance.now();
  const ds = await loadCifar10({ verbose: false });
  const ms = performance.now() - t0;
  return { ms, peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024), images: ds.train.labels.length + ds.test.labels.length, source: ds.source };
}

/** Runs the two loads in child processes (`childArgs` starts this script's --child-data mode); a line, or why not. */
export async function cifar10DataLine(childArgs: string[]): Promise<string> {
  const mirror = mirrorDir();
  if (!mirror || !fs.existsSync(path.join(mirror, "cifar10"))) {
    return "CIFAR-10 load: skipped (no mirror with cifar10/; set LESSONS_DATA_MIRROR, e.g. /work/shared/data).";
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-bench-data-"));
  try {
    const { execa } = await loadExeca();
    const run = async () => {
      const { stdout } = await execa(process.execPath, childArgs, {
        env: { LESSONS_DATA_DIR: dir, LESSONS_DATA_MIRROR: mirror },
        maxBuffer: 16 * 1024 * 1024,
        timeout: 1_200_000,
      });
      return JSON.parse(stdout.trim().split("\n").pop() ?? "") as DataLoadRun;
    };
    const first = await run();
    const second = await run();
    const s = (r: DataLoadRun) => `${(r.ms / 1000).toFixed(1)} s (peak RSS ${r.peakRssMB} MB)`;
    return (
      `CIFAR-10 load (${first.images.toLocaleString("en-US")} images, ${first.source}, mirror ${mirror}): ` +
      `first ${s(first)}, decoding every JPEG into the pixel cache; second ${s(second)}, from the cache.`
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
