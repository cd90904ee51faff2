/**
 * Fetch, verify and cache datasets and weights by name:  npm run data -- [dollar-street] [cifar10] [fashion-mnist] [mobilenet]
 * With no name, all of them. Sources: cache, then system copies, then LESSONS_DATA_MIRROR, then the internet.
 */
import { Command } from "commander";
import { dataDir } from "../lib/paths";
import { loadCifar10 } from "../lib/data/cifar10";
import { loadDollarStreet } from "../lib/data/dollarStreet";
import { loadFashionMnist } from "../lib/data/fashionMnist";
import { ensureMobileNetFiles } from "../lib/data/mobilenet";
import * as fs from "fs";
import { DatasetUnavailableError, mirrorDir } from "../lib/data/cache";

const TASKS: Record<string, () => Promise<string>> = {
  "dollar-street": async () => {
    const ds = await loadDollarStreet({ allowGenerated: false });
    return `${ds.train.count} train + ${ds.test.count} test images in ${ds.folder}`;
  },
  cifar10: async () => {
    // cacheDecoded: decode the mirror's JPEGs now (about half a minute), so the first lesson load takes a second.
    const ds = await loadCifar10({ trainCount: 10, testCount: 10, cacheDecoded: true });
    return `ready (${ds.source}${ds.source === "jpeg-mirror" ? ": JPEG-compressed copies of the official images" : ""})`;
  },
  "fashion-mnist": async () => {
    const ds = await loadFashionMnist();
    return `${ds.train.count} train + ${ds.test.count} test images`;
  },
  mobilenet: async () => {
    const files = await ensureMobileNetFiles();
    return `model.json + ${files.shards.length} weight shards + class names`;
  },
};

async function main(): Promise<void> {
  const program = new Command()
    .name("data")
    .description(`Fetch and verify lesson data into ${dataDir()}`)
    .argument("[names...]", `any of: ${Object.keys(TASKS).join(", ")} (default: all)`)
    .parse();
  const names = program.args.length ? program.args : Object.keys(TASKS);
  const unknown = names.filter((n) => !(n in TASKS));
  if (unknown.length) {
    console.error(`Unknown dataset name(s): ${unknown.join(", ")}. Choose from: ${Object.keys(TASKS).join(", ")}.`);
    process.exit(2);
  }
  const mirror = mirrorDir();
  const mirrorText = mirror === null ? "(none; set LESSONS_DATA_MIRROR)" : fs.existsSync(mirror) ? mirror : `${mirror} DOES NOT EXIST (check LESSONS_DATA_MIRROR)`;
  console.log(`Cache: ${dataDir()}   Mirror: ${mirrorText}`);
  let failed = 0;
  for (const name of names) {
    try {
      console.log(`${name}: ${await TASKS[name]()}`);
    } catch (e) {
      failed++;
      console.error(`${name}: FAILED\n${(e as Error).message}`);
      // Only when nothing could be had: a damaged or unwritable cache makes the lessons fail too.
      if (name === "dollar-street" && e instanceof DatasetUnavailableError) {
        console.error("  (Lessons still run without it: they fall back to a generated stand-in and say so loudly.)");
      }
    }
  }
  process.exit(failed ? 1 : 0);
}

main();
