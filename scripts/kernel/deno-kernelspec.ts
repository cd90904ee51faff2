/**
 * The course's second Jupyter kernel, "TypeScript (CNN lessons, Deno)": Deno's own kernel (`deno jupyter`) run
 * with the project's pinned Deno, for learners and schools who prefer a maintained kernel to tslab. The same
 * notebooks run on both.
 */
import { denoBin, DENO_KERNEL_FLAGS } from "./deno";
import { findCheckout, KERNEL_NAME, type KernelJson } from "./kernelspec";

export const DENO_KERNEL_NAME = "cnn-lessons-deno";
export const DENO_KERNEL_DISPLAY_NAME = "TypeScript (CNN lessons, Deno)";

/**
 * Start-up run by /bin/sh from kernel.json, like the tslab kernel's: from the notebook's folder it walks up to
 * the course checkout that holds the notebook (else the registering checkout, $2) and runs that checkout's
 * Deno, from node_modules (the deno package links the binary there on first use; else the platform package's).
 * Deno cannot preload our parent watch, so when a Node is at hand (PATH, else the registering Node, $3) the
 * launcher starts watch-kernel.cjs beside the kernel: it stops the kernel when Jupyter is gone. `exec` keeps
 * this shell's pid for Deno, which is the pid the watcher is given. Each failure prints one line with the fix.
 * Arguments: $1 connection file, $2 registering checkout, $3 registering Node. No `{name}` patterns: Jupyter
 * would substitute them.
 */
export const DENO_LAUNCH_SCRIPT = `${findCheckout("TypeScript (CNN lessons, Deno)")}deno=""
for candidate in "$checkout/node_modules/deno/deno" "$checkout"/node_modules/@deno/*/deno; do
  if [ -f "$candidate" ] && [ -x "$candidate" ]; then deno=$candidate; break; fi
done
if [ -z "$deno" ]; then
  say "the course checkout $checkout (found from $how) has no Deno in node_modules: run npm install (or npm ci) in $checkout."
  exit 1
fi
if [ -n "$LESSONS_KERNEL_DRY_RUN" ]; then echo "$deno"; exit 0; fi
node=$(command -v node 2>/dev/null)
[ -n "$node" ] || node=$3
if [ -x "$node" ] && [ -f "$checkout/scripts/kernel/watch-kernel.cjs" ]; then
  "$node" "$checkout/scripts/kernel/watch-kernel.cjs" "$PPID" "$$" </dev/null &
fi
exec "$deno" jupyter ${DENO_KERNEL_FLAGS.join(" ")} --kernel --conn "$1"
`;

/**
 * kernel.json for the Deno kernel. On Linux and macOS it runs DENO_LAUNCH_SCRIPT (checkout and Deno found when
 * the kernel starts; `root` and `nodeExecutable` are fallbacks). On Windows (no /bin/sh) it names this
 * checkout's Deno directly.
 */
export function denoKernelJson(root: string, nodeExecutable: string = process.execPath, platform: NodeJS.Platform = process.platform): KernelJson {
  const deno = denoBin(root); // also: a clear error when the checkout has no Deno
  // SIGINT ends Deno's kernel; an interrupt_request stops the running code and keeps the kernel's state.
  const common = { display_name: DENO_KERNEL_DISPLAY_NAME, language: "typescript", interrupt_mode: "message" as const };
  if (platform === "win32") return { argv: [deno, "jupyter", ...DENO_KERNEL_FLAGS, "--kernel", "--conn", "{connection_file}"], ...common };
  return {
    argv: ["/bin/sh", "-c", DENO_LAUNCH_SCRIPT, DENO_KERNEL_NAME, "{connection_file}", root, nodeExecutable],
    ...common,
    metadata: { lessons: { fallback_checkout: root, fallback_node: nodeExecutable } },
  };
}
