/**
 * The project's Jupyter kernel: its name, the metadata every committed notebook carries, and the kernel.json
 * that starts this checkout's tslab with the Node that runs the installer.
 */
import * as fs from "fs";
import * as path from "path";

export const KERNEL_NAME = "cnn-lessons-ts";
export const KERNEL_DISPLAY_NAME = "TypeScript (CNN lessons)";

/** `metadata.kernelspec` of every lesson notebook. */
export const STANDARD_KERNELSPEC = {
  display_name: KERNEL_DISPLAY_NAME,
  language: "typescript",
  name: KERNEL_NAME,
} as const;

/** `metadata.language_info` of every lesson notebook (what tslab reports, minus its fake version number). */
export const STANDARD_LANGUAGE_INFO = {
  codemirror_mode: { mode: "typescript", name: "javascript", typescript: true },
  file_extension: ".ts",
  mimetype: "text/typescript",
  name: "typescript",
} as const;

/** Absolute path of this checkout's tslab entry point. */
export function tslabBin(root: string): string {
  return path.join(root, "node_modules", "tslab", "bin", "tslab");
}

/** The preload that makes a kernel leave when the process that started it is gone. */
export function parentWatchScript(root: string): string {
  return path.join(root, "scripts", "kernel", "parent-watch.cjs");
}

export interface KernelJson {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: "signal";
}

/** kernel.json for the project kernel: absolute paths, so it works whatever folder Jupyter starts it in. */
export function kernelJson(root: string, nodeExecutable: string = process.execPath): KernelJson {
  const bin = tslabBin(root);
  if (!fs.existsSync(bin)) {
    throw new Error(`tslab is not installed at ${bin}. Run \`npm install\` in ${root} first.`);
  }
  return {
    argv: [nodeExecutable, bin, "kernel", "--config-path", "{connection_file}"],
    display_name: KERNEL_DISPLAY_NAME,
    language: "typescript",
    interrupt_mode: "signal",
  };
}
