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

/** The kernel's preload: it leaves when the process that started it is gone, and tslab's compiler timer is fixed. */
export function kernelPreloadScript(root: string): string {
  return path.join(root, "scripts", "kernel", "kernel-preload.cjs");
}

export interface KernelJson {
  argv: string[];
  display_name: string;
  language: string;
  /** signal: Jupyter sends SIGINT (tslab); message: an interrupt_request on the control channel (Deno). */
  interrupt_mode: "signal" | "message";
  metadata?: { lessons?: { fallback_checkout: string; fallback_node: string } };
}

/**
 * The start of both kernels' launchers (tslab's here, Deno's in deno-kernelspec.ts): `say` prints one line to Jupyter's
 * server log, and `checkout` becomes the course checkout holding the notebook's folder, else the registering one
 * ($2), with `how` saying which. Only shell built-ins.
 */
export function findCheckout(kernelLabel: string): string {
  return `say() { echo "${kernelLabel} kernel: $*" >&2; }
is_course() {
  [ -f "$1/package.json" ] || return 1
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in *'"name":'*'"${KERNEL_NAME}"'*) return 0 ;; esac
  done < "$1/package.json"
  return 1
}
dir=$(pwd -P); checkout=""
while [ -n "$dir" ]; do
  if is_course "$dir"; then checkout=$dir; break; fi
  [ "$dir" = / ] && break
  dir=\${dir%/*}; dir=\${dir:-/}
done
how="the notebook's folder"
if [ -z "$checkout" ]; then
  checkout=$2; how="the kernel registration (the notebook is outside any course checkout)"
  if ! is_course "$checkout"; then
    say "the course checkout $checkout, registered by npm run kernel:install, no longer exists (moved or deleted). Open the notebooks from inside a checkout of the course, or run npm run kernel:install in the checkout you use now."
    exit 1
  fi
fi
`;
}

/**
 * The kernel's start-up, run by /bin/sh from kernel.json (so it lives in the registration itself and survives a
 * checkout being moved or deleted). Jupyter starts kernels in the notebook's folder; the script walks up from there
 * to the course checkout that holds the notebook and runs that checkout's tslab, so two checkouts on one machine
 * share the registration but never each other's packages. Outside any checkout it uses the checkout that
 * registered the kernel. Node is the `node` on PATH when it is 20.19 or newer (an nvm switch is followed), else the
 * Node that registered the kernel. Each failure prints one line (shown in Jupyter's server log) with the fix.
 * Arguments: $1 connection file, $2 registering checkout, $3 registering Node. Only shell built-ins besides node,
 * so a bare PATH still gets a clear message. No `{name}` patterns: Jupyter would substitute them.
 */
export const LAUNCH_SCRIPT = `${findCheckout("TypeScript (CNN lessons)")}node_ok() { "$1" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null; }
tslab=$checkout/node_modules/tslab/bin/tslab
if [ ! -f "$tslab" ]; then
  say "the course checkout $checkout (found from $how) has no node_modules/tslab: run npm install (or npm ci) in $checkout."
  exit 1
fi
node=$(command -v node 2>/dev/null)
if [ -z "$node" ] || ! node_ok "$node"; then
  if [ -x "$3" ] && node_ok "$3"; then
    node=$3
  else
    say "needs Node.js 20.19 or newer: \${node:-no node} on PATH, and $3 (the Node that registered the kernel) is $( [ -x "$3" ] && echo too old || echo gone ). Install Node 20.19+ (nvm install 20), start Jupyter from a shell where node -v says so, and run npm run kernel:install."
    exit 1
  fi
fi
if [ -n "$LESSONS_KERNEL_DRY_RUN" ]; then echo "$node $tslab"; exit 0; fi
exec "$node" --require "$checkout/scripts/kernel/kernel-preload.cjs" "$tslab" kernel --config-path "$1"
`;

/**
 * kernel.json for the project kernel. On Linux and macOS it runs LAUNCH_SCRIPT, which finds the checkout and Node
 * when the kernel starts; `root` and `nodeExecutable` are only its fallbacks. On Windows (no /bin/sh) it names this
 * checkout's tslab and this Node directly.
 */
export function kernelJson(root: string, nodeExecutable: string = process.execPath, platform: NodeJS.Platform = process.platform): KernelJson {
  const bin = tslabBin(root);
  if (!fs.existsSync(bin)) {
    throw new Error(`tslab is not installed at ${bin}. Run \`npm install\` in ${root} first.`);
  }
  const common = { display_name: KERNEL_DISPLAY_NAME, language: "typescript", interrupt_mode: "signal" as const };
  if (platform === "win32") return { argv: [nodeExecutable, bin, "kernel", "--config-path", "{connection_file}"], ...common };
  return {
    argv: ["/bin/sh", "-c", LAUNCH_SCRIPT, KERNEL_NAME, "{connection_file}", root, nodeExecutable],
    ...common,
    metadata: { lessons: { fallback_checkout: root, fallback_node: nodeExecutable } },
  };
}
