/** The committed wasm/training_kernels*.wasm must be exactly what scripts/build-wasm.sh makes of the C source. */
import { it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { projectRoot } from "../../lib/paths";

/** The compiler build-wasm.sh will use (CLANG, else clang, else Debian's versioned clang-19), if it runs. */
function haveClang(): boolean {
  for (const clang of [process.env.CLANG, "clang", "clang-19"]) {
    if (!clang) continue;
    try {
      execFileSync(clang, ["--version"], { stdio: "ignore" });
      return true;
    } catch {
      // try the next name
    }
  }
  return false;
}

it("committed training_kernels*.wasm match a fresh build of wasm/training_kernels.c", { skip: haveClang() ? false : "clang/wasm-ld not installed (apt-get install -y clang lld)" }, () => {
  const root = projectRoot();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wasm-build-"));
  execFileSync("bash", [path.join(root, "scripts", "build-wasm.sh"), tmp], { stdio: "ignore" });
  const built = ["training_kernels.wasm", "training_kernels-shared.wasm", "training_kernels-relaxed.wasm", "training_kernels-relaxed-shared.wasm"];
  for (const name of built) {
    const committed = fs.readFileSync(path.join(root, "wasm", name));
    assert.ok(committed.equals(fs.readFileSync(path.join(tmp, name))), `wasm/${name} is stale: run \`npm run build:wasm\` and commit it`);
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});
