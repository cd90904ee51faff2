/**
 * `npx tsx scripts/runner/record-iopub.ts OUT.json`: runs a few cells in a real tslab kernel and saves every iopub
 * message with the cell source that caused it, as the recorded input of test/runner/iopub.test.ts.
 */
import * as fs from "fs";
import * as path from "path";
import { Kernel } from "./kernel-client";
import type { Message } from "./protocol";

export const RECORDED_CELLS = [
  'console.log("one");\nconsole.log("two");\nconsole.error("careful");\nconsole.log("three");\n',
  "6 * 7\n",
  'import * as tslab from "tslab";\nconst d = tslab.newDisplay();\nd.html("<i>epoch 1</i>");\nd.html("<i>epoch 2</i>");\ntslab.display.html("<b>plain</b>");\n',
  'throw new RangeError("negative size");\n',
  "const n: number = \"text\";\n",
];

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error("usage: record-iopub.ts OUT.json");
  const root = path.resolve(__dirname, "..", "..");
  const messages: Message[] = [];
  const kernel = await Kernel.start({ root, cwd: root, onIopub: (m) => messages.push(m) });
  const cells: { source: string; msgId: string; messages: Message[] }[] = [];
  try {
    for (const source of RECORDED_CELLS) {
      const run = await kernel.execute(source, 60_000);
      await new Promise((r) => setTimeout(r, 400)); // tslab aborts requests right after a failed one
      cells.push({ source, msgId: run.msgId, messages: messages.filter((m) => m.parent_header.msg_id === run.msgId) });
    }
  } finally {
    await kernel.shutdown();
  }
  fs.writeFileSync(out, JSON.stringify({ recordedWith: "tslab 1.0.22", cells }, null, 1) + "\n");
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
