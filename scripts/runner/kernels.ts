/** Which kernel the runner starts for a notebook: the project's tslab (default) or the project's Deno. */
import { denoBin, denoKernelArgv, kernelWatchScript } from "../kernel/deno";

export const KERNEL_KINDS = ["tslab", "deno"] as const;
export type KernelKind = (typeof KERNEL_KINDS)[number];

/** Checks a --kernel value; the error names the choices. */
export function parseKernelKind(value: string): KernelKind {
  if ((KERNEL_KINDS as readonly string[]).includes(value)) return value as KernelKind;
  throw new Error(`Unknown kernel '${value}': use one of ${KERNEL_KINDS.join(", ")} (--kernel tslab is the default).`);
}

export interface KernelCommand {
  /** The kernel's command line for a connection file; undefined: the Kernel's default (this checkout's tslab). */
  argv?: (connectionFile: string) => string[];
  /** A process to start beside a kernel that cannot preload the parent watch itself (Deno): its argv for the kernel's pid. */
  watcher?: (kernelPid: number) => string[];
  /** How a cell is interrupted (see the kernelspec's interrupt_mode). */
  interruptMode?: "signal" | "message";
}

/**
 * tslab starts as the Kernel class starts it by default, with the preload that makes it leave when the runner is
 * gone. Deno cannot preload a CommonJS file, so a small Node process watches the runner and the kernel instead.
 */
export function kernelCommand(kind: KernelKind, root: string): KernelCommand {
  if (kind === "tslab") return {};
  const deno = denoBin(root);
  return {
    argv: (file) => denoKernelArgv(deno, file),
    watcher: (kernelPid) => [process.execPath, kernelWatchScript(root), String(process.pid), String(kernelPid)],
    interruptMode: "message", // SIGINT would end Deno's kernel
  };
}
