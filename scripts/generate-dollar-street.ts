/**
 * Write the synthetic Dollar Street 10 stand-in (same file names, dtypes and shapes as the real Zenodo files).
 *   npx tsx scripts/generate-dollar-street.ts [--seed 2024] [--out <folder>] [--train 878] [--test 98]
 * Default folder: <data>/dollar-street-generated (never the folder the real files go to).
 */
import * as path from "path";
import { Command } from "commander";
import { dataDir } from "../lib/paths";
import { STANDIN_TEST_COUNT, STANDIN_TRAIN_COUNT, writeDollarStreetStandIn } from "../lib/data/dollarStreetGenerator";

const program = new Command()
  .name("generate-dollar-street")
  .description("Generate the synthetic Dollar Street 10 stand-in .npy files")
  .option("--seed <n>", "random seed", "2024")
  .option("--out <folder>", "output folder", path.join(dataDir(), "dollar-street-generated"))
  .option("--train <n>", "training images", String(STANDIN_TRAIN_COUNT))
  .option("--test <n>", "test images", String(STANDIN_TEST_COUNT))
  .parse();

const o = program.opts<{ seed: string; out: string; train: string; test: string }>();
const out = path.resolve(o.out);
if (out === path.join(dataDir(), "dollar-street")) {
  console.error(`Refusing to write generated data into ${out}: that folder is for the real Dollar Street files.`);
  process.exit(2);
}
const files = writeDollarStreetStandIn(out, { seed: Number(o.seed), trainCount: Number(o.train), testCount: Number(o.test) });
for (const f of files) console.log(f);
