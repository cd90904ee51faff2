/**
 * Installing the project kernelspec into the user's Jupyter data folder.
 *
 * We prefer `jupyter kernelspec install --user --replace`; Debian's packages ship no `jupyter-kernelspec`
 * command, so when that fails we write the same files into `jupyter --data-dir`/kernels ourselves.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadExeca } from "./load-execa";
import { KERNEL_NAME, kernelJson } from "./kernelspec";

export interface InstallResult {
  /** Folder that now holds kernel.json. */
  dir: string;
  method: "jupyter kernelspec" | "direct write";
}

function writeSpec(dir: string, root: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "kernel.json"), JSON.stringify(kernelJson(root), null, 2) + "\n");
}

/** Installs (or replaces) the `cnn-lessons-ts` kernelspec pointing at `root`'s tslab. Needs `jupyter` on PATH. */
export async function installKernelspec(root: string): Promise<InstallResult> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kernelspec-"));
  const specDir = path.join(tmp, KERNEL_NAME);
  try {
    writeSpec(specDir, root);
    const r = await (await loadExeca()).execa("jupyter", ["kernelspec", "install", "--user", "--replace", "--name", KERNEL_NAME, specDir], {
      reject: false,
      stdin: "ignore",
      timeout: 60_000,
    });
    if (r.exitCode === 0) {
      const dir = (r.stderr + "\n" + r.stdout).match(/installed kernelspec \S+ in (.+)$/im)?.[1]?.trim();
      return { dir: dir ?? specDir, method: "jupyter kernelspec" };
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const dataDir = (await (await loadExeca()).execa("jupyter", ["--data-dir"], { stdin: "ignore", timeout: 60_000 })).stdout.trim();
  const dir = path.join(dataDir, "kernels", KERNEL_NAME);
  writeSpec(dir, root);
  return { dir, method: "direct write" };
}
