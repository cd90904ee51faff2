/**
 * Installing the project kernelspec: for this user (default), into the Jupyter environment (`--sys-prefix`, e.g.
 * the course's .venv-jupyter or a JupyterHub's environment) or for every user of the machine (`--system`).
 *
 * We prefer `jupyter kernelspec install`; Debian's packages ship no `jupyter-kernelspec` command, so when that
 * fails we write the same file into the folder Jupyter reads for that scope ourselves.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadExeca } from "./load-execa";
import { KERNEL_DISPLAY_NAME, KERNEL_NAME, kernelJson, type KernelJson } from "./kernelspec";
import { DENO_KERNEL_DISPLAY_NAME, DENO_KERNEL_NAME, denoKernelJson } from "./deno-kernelspec";

export type InstallScope = "user" | "sys-prefix" | "system";

export interface InstallResult {
  /** Folder that now holds kernel.json. */
  dir: string;
  method: "jupyter kernelspec" | "direct write";
  /** The checkout the registration it replaced fell back to, when that was another checkout. */
  replacedCheckout?: string;
}

const SCOPE_FLAGS: Record<InstallScope, string[]> = { user: ["--user"], "sys-prefix": ["--sys-prefix"], system: [] };

function writeSpec(dir: string, spec: KernelJson): void {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "kernel.json");
  const temp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temp, JSON.stringify(spec, null, 2) + "\n");
  fs.renameSync(temp, file);
}

async function jupyter(args: string[]) {
  return (await loadExeca()).execa("jupyter", args, { reject: false, stdin: "ignore", timeout: 60_000 });
}

/** The prefix of the Python environment `jupyter` belongs to (<prefix>/bin/jupyter), i.e. its sys.prefix. */
async function jupyterPrefix(): Promise<string> {
  const r = await (await loadExeca()).execa("sh", ["-c", "command -v jupyter"], { reject: false, stdin: "ignore" });
  const bin = r.stdout.trim();
  if (!bin) throw new Error("`jupyter` is not on PATH.");
  return path.dirname(path.dirname(fs.realpathSync(bin)));
}

/** Where Jupyter looks for kernels of `scope` (what `jupyter kernelspec install` would use). */
export async function kernelsDir(scope: InstallScope): Promise<string> {
  if (scope === "user") {
    const r = await jupyter(["--data-dir"]);
    if (r.exitCode !== 0) throw new Error(`jupyter --data-dir failed: ${r.stderr.trim()}`);
    return path.join(r.stdout.trim(), "kernels");
  }
  if (scope === "sys-prefix") return path.join(await jupyterPrefix(), "share", "jupyter", "kernels");
  return systemKernelsDir();
}

/** jupyter_core's first system-wide data folder. */
export function systemKernelsDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === "win32") return path.join(env.PROGRAMDATA ?? "C:\\ProgramData", "jupyter", "kernels");
  return "/usr/local/share/jupyter/kernels";
}

function readSpec(file: string): KernelJson | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/** The checkout a kernel.json falls back to (the launcher form), or the checkout whose tslab it names (older form). */
export function specCheckout(spec: KernelJson): string | undefined {
  const fallback = spec.metadata?.lessons?.fallback_checkout;
  if (fallback) return fallback;
  const tslab = spec.argv.find((a) => /node_modules[\\/]tslab[\\/]bin[\\/]tslab$/.test(a));
  return tslab ? path.resolve(tslab, "..", "..", "..", "..") : undefined;
}

/**
 * Installs (or replaces) the `cnn-lessons-ts` kernelspec for `scope`. The kernel runs the tslab of the checkout
 * that holds the notebook; `root` is the fallback for notebooks outside any checkout. Needs `jupyter` on PATH.
 */
export async function installKernelspec(root: string, scope: InstallScope = "user"): Promise<InstallResult> {
  return installSpec(KERNEL_NAME, kernelJson(root), root, scope);
}

/**
 * Installs (or replaces) the `cnn-lessons-deno` kernelspec ("TypeScript (CNN lessons, Deno)") for `scope`: Deno's
 * kernel with the Deno of the checkout that holds the notebook (`root` as the fallback).
 */
export async function installDenoKernelspec(root: string, scope: InstallScope = "user"): Promise<InstallResult> {
  return installSpec(DENO_KERNEL_NAME, denoKernelJson(root), root, scope);
}

async function installSpec(name: string, spec: KernelJson, root: string, scope: InstallScope): Promise<InstallResult> {
  let before: string | undefined;
  try {
    before = specCheckout(readSpec(path.join(await kernelsDir(scope), name, "kernel.json")) ?? { argv: [] } as unknown as KernelJson);
  } catch {
    before = undefined;
  }
  const replacedCheckout = before && path.resolve(before) !== path.resolve(root) ? before : undefined;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kernelspec-"));
  const specDir = path.join(tmp, name);
  try {
    writeSpec(specDir, spec);
    const r = await jupyter(["kernelspec", "install", ...SCOPE_FLAGS[scope], "--replace", "--name", name, specDir]);
    if (r.exitCode === 0) {
      const dir = (r.stderr + "\n" + r.stdout).match(/installed kernelspec \S+ in (.+)$/im)?.[1]?.trim();
      return { dir: dir ?? path.join(await kernelsDir(scope), name), method: "jupyter kernelspec", replacedCheckout };
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const dir = path.join(await kernelsDir(scope), name);
  try {
    writeSpec(dir, spec);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
      throw new Error(`Cannot write ${dir} (${code}): ${scope === "system" ? "a system-wide install needs root: sudo npm run kernel:install -- --system" : "check that you own the Jupyter environment"}.`);
    }
    throw e;
  }
  return { dir, method: "direct write", replacedCheckout };
}

/**
 * The kernel.json Jupyter will use for kernel `name` (the first of its data folders that has one), null when none
 * does, or undefined when Jupyter cannot be asked.
 */
async function registeredSpecFile(name: string): Promise<string | null | undefined> {
  let dataDirs: string[];
  try {
    const r = await jupyter(["--paths", "--json"]);
    dataDirs = (JSON.parse(r.stdout) as { data?: string[] }).data ?? [];
  } catch {
    return undefined;
  }
  return dataDirs.map((d) => path.join(d, "kernels", name, "kernel.json")).find((f) => fs.existsSync(f)) ?? null;
}

/**
 * One paragraph for `npm start` and `npm run kernel:install`: which kernel registration Jupyter will use and which
 * checkout's tslab the lessons of `root` run with.
 */
export async function describeKernelRegistration(root: string): Promise<string> {
  const file = await registeredSpecFile(KERNEL_NAME);
  if (file === undefined) return `Kernel "${KERNEL_DISPLAY_NAME}": cannot ask Jupyter where kernels are (is jupyter installed?).`;
  if (!file) return `Kernel "${KERNEL_DISPLAY_NAME}" is not registered with Jupyter: run npm run kernel:install.`;
  const spec = readSpec(file);
  const fallback = spec?.metadata?.lessons?.fallback_checkout;
  if (spec && fallback) {
    return (
      `Kernel "${KERNEL_DISPLAY_NAME}" (${file}): notebooks in ${root} run this checkout's tslab ` +
      `(${path.join(root, "node_modules", "tslab")}) with the node on PATH; notebooks outside any checkout use ${fallback}.`
    );
  }
  const named = spec && specCheckout(spec);
  return (
    `Kernel "${KERNEL_DISPLAY_NAME}" (${file}) is an older registration that always runs ${named ?? "an unknown checkout"}'s tslab` +
    `${named && path.resolve(named) !== path.resolve(root) ? ", not this checkout's" : ""}: run npm run kernel:install to update it.`
  );
}

/** One line for `npm start` and `npm run kernel:install`: where the Deno kernel is registered and which Deno it runs. */
export async function describeDenoKernelRegistration(root: string): Promise<string> {
  const file = await registeredSpecFile(DENO_KERNEL_NAME);
  if (file === undefined) return `Kernel "${DENO_KERNEL_DISPLAY_NAME}": cannot ask Jupyter where kernels are (is jupyter installed?).`;
  if (!file) return `Kernel "${DENO_KERNEL_DISPLAY_NAME}" is not registered with Jupyter: run npm run kernel:install.`;
  const fallback = readSpec(file)?.metadata?.lessons?.fallback_checkout;
  return (
    `Kernel "${DENO_KERNEL_DISPLAY_NAME}" (${file}): notebooks in ${root} run this checkout's Deno ` +
    `(${path.join(root, "node_modules", "deno")})${fallback ? `; notebooks outside any checkout use ${fallback}` : ""}.`
  );
}
