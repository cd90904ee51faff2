/**
 * Lesson 05's benchmark workloads: the MobileNet v1 0.25 built for timing has the pretrained file's layers, the
 * fine-tuning workload trains only block 13 and the head, and the PyTorch peer program for F and FT is valid Python.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "lessons-bench-transfer-"));
process.env.LESSONS_DATA_DIR = CACHE;

import * as tf from "@tensorflow/tfjs";
import { projectRoot } from "../../lib/paths";
import { loadMobileNet, MOBILENET_FEATURE_LAYER } from "../../lib/data/mobilenet";
import { cutAt, parameterCounts } from "../../lib/transfer";
import { buildTransferModel, mobilenetV1Quarter, TRANSFER_WORKLOADS } from "../../scripts/bench/transfer";
import { torchPeerScript } from "../../scripts/bench/torch";
import { loadExeca } from "../../scripts/kernel/load-execa";

const MIRROR = process.env.LESSONS_DATA_MIRROR || path.resolve(projectRoot(), "..", "shared", "data");
const HAVE_MIRROR = fs.existsSync(path.join(MIRROR, "mobilenet_v1_0.25_224", "model.json"));

before(async () => {
  await tf.setBackend("cpu");
});
after(() => fs.rmSync(CACHE, { recursive: true, force: true }));

const describeLayers = (m: tf.LayersModel) =>
  m.layers.map((l) => `${l.name} ${l.getClassName()} ${JSON.stringify(l.outputShape)} ${l.countParams()}`);

test("the benchmark's MobileNet v1 0.25 has the pretrained model's layers, shapes and parameter counts", { skip: !HAVE_MIRROR && `no mirror at ${MIRROR}` }, async () => {
  const real = cutAt((await loadMobileNet({ mirror: MIRROR, inputSize: 96, verbose: false })).model, MOBILENET_FEATURE_LAYER);
  const ours = mobilenetV1Quarter(96);
  assert.deepEqual(describeLayers(ours), describeLayers(real));
});

test("workload FT trains block 13 and the 41,802-parameter head only; F is the whole base", () => {
  const [e, f] = TRANSFER_WORKLOADS;
  assert.deepEqual([e.id, f.id], ["F", "FT"]);
  const base = buildTransferModel(e);
  assert.deepEqual(base.outputs[0].shape, [null, 256]);
  base.dispose();
  const model = buildTransferModel(f);
  assert.equal(parameterCounts(model).trainable, 2304 + 512 + 65536 + 512 + 41802);
  model.dispose();
});

test("the PyTorch peer programs for F and FT are valid Python and build the same channel table", async () => {
  const { execa } = await loadExeca();
  for (const id of ["F", "FT"]) {
    const script = torchPeerScript(id, 1, 2, 1);
    assert.match(script, /\[\[16,1\],\[32,2\],/);
    const r = await execa("python3", ["-c", "import ast, sys; ast.parse(sys.stdin.read())"], { input: script, reject: false });
    assert.equal(r.exitCode, 0, `${id}: ${r.stderr}`);
  }
  assert.throws(() => torchPeerScript("H", 1, 1, 1), /choose from A, B, C, D, E, F, FT, G/);
});
