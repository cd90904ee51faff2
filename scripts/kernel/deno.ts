/**
 * The project's own Deno (the pinned `deno` npm package, whose platform package carries the binary) and the
 * command line of its Jupyter kernel.
 */
import * as fs from "fs";
import * as path from "path";
import { createRequire } from "module";

/** Flags every Deno kernel of the course gets: `./lib/train` resolves to lib/train.ts as under tslab. */
export const DENO_KERNEL_FLAGS = ["--unstable-sloppy-imports"] as const;

/**
 * Absolute path of the deno executable installed in `root`'s node_modules. The package's own helper finds the
 * binary of this platform (and links it into node_modules/deno on first use).
 */
export function denoBin(root: string): string {
  const pkg = path.join(root, "node_modules", "deno", "package.json");
  if (!fs.existsSync(pkg)) {
    throw new Error(`Deno is not installed in ${root} (no node_modules/deno): run \`npm install\` there.`);
  }
  const api = createRequire(pkg)("./install_api.cjs") as { runInstall(): string };
  try {
    return api.runInstall();
  } catch (e) {
    throw new Error(`The deno package in ${root} has no binary for this platform (${process.platform}-${process.arch}): ${(e as Error).message}. Reinstall with \`npm install\`.`);
  }
}

/** The Deno kernel's command line for a connection file (what Jupyter runs, minus the launcher). */
export function denoKernelArgv(deno: string, connectionFile: string): string[] {
  return [deno, "jupyter", ...DENO_KERNEL_FLAGS, "--kernel", "--conn", connectionFile];
}

/** The watcher that makes a Deno kernel leave when the process that started it is gone (see watch-kernel.cjs). */
export function kernelWatchScript(root: string): string {
  return path.join(root, "scripts", "kernel", "watch-kernel.cjs");
}
