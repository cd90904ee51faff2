/** The committed wasm/training_kernels.wasm must be exactly what scripts/build-wasm.sh makes of the C source. */
import { it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { projectRoot } from "../../lib/paths";

function haveClang(): boolean {
  try {
    execFileSync("clang", ["--version"], { stdio: "ignore" });
    execFileSync("wasm-ld", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

it("committed training_kernels.wasm matches a fresh build of wasm/training_kernels.c", { skip: haveClang() ? false : "clang/wasm-ld not installed (apt-get install -y clang lld)" }, () => {
  const root = projectRoot();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-build-"));
  const fresh = path.join(tmp, "training_kernels.wasm");
  execFileSync("bash", [path.join(root, "scripts", "build-wasm.sh"), fresh], { stdio: "ignore" });
  const committed = fs.readFileSync(path.join(root, "wasm", "training_kernels.wasm"));
  assert.ok(committed.equals(fs.readFileSync(fresh)), "wasm/training_kernels.wasm is stale: run `npm run build:wasm` and commit it");
  fs.rmSync(tmp, { recursive: true, force: true });
});
