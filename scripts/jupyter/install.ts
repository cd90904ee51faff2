/**
 * `npm run jupyter:install [-- --hub] [--force]`: builds the course's Jupyter environment, a Python virtual
 * environment in .venv-jupyter/ with the pinned packages of requirements-jupyter.txt (JupyterLab and plotly's
 * Lab renderer), or of requirements-hub.txt with --hub (adds JupyterHub). Never touches the system Python.
 * Does nothing when the environment is already installed from the same pins. `npm start` then uses it.
 */
import * as fs from "fs";
import * as path from "path";
import { Command } from "commander";
import { installKernelspec } from "../kernel/install";
import { loadExeca } from "../kernel/load-execa";
import { pythonSetting } from "../../lib/config";
import {
  HUB_REQUIREMENTS, LAB_REQUIREMENTS, STAMP_FILE, type VenvStamp, envWithVenv, requirementsDigest, venvBin, venvDir, venvUpToDate,
} from "./venv";

const root = path.resolve(__dirname, "..", "..");

/** The Python that creates the venv: LESSONS_PYTHON, else python3 (python on Windows). */
function basePython(): string {
  return pythonSetting() ?? (process.platform === "win32" ? "python" : "python3");
}

async function checkPython(python: string): Promise<string> {
  const { execa } = await loadExeca();
  const r = await execa(python, ["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"], { reject: false, stdin: "ignore" })
    .catch(() => undefined);
  if (!r || r.exitCode !== 0) {
    throw new Error(`${python} did not run. Install Python 3.9 or newer (Debian/Ubuntu: sudo apt-get install python3 python3-venv), ` +
      "or point LESSONS_PYTHON at a python3 binary.");
  }
  const version = r.stdout.trim();
  const [major, minor] = version.split(".").map(Number);
  if (major !== 3 || minor! < 9) throw new Error(`${python} is Python ${version}; JupyterLab 4 needs Python 3.9 or newer (set LESSONS_PYTHON).`);
  return version;
}

/** Removes a previous, outdated or half-built venv, but only one that is recognisably a venv. */
function removeOldVenv(dir: string): void {
  if (!fs.existsSync(dir)) return;
  if (!fs.existsSync(path.join(dir, "pyvenv.cfg"))) {
    throw new Error(`${dir} exists but is not a Python virtual environment; move it away or set LESSONS_JUPYTER_VENV to another folder.`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

function writeStampAtomic(dir: string, stamp: VenvStamp): void {
  const file = path.join(dir, STAMP_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(stamp, null, 2) + "\n");
  JSON.parse(fs.readFileSync(tmp, "utf8"));
  fs.renameSync(tmp, file);
}

export async function installVenv(opts: { hub: boolean; force: boolean }): Promise<string> {
  const { execa } = await loadExeca();
  const requirements = path.join(root, opts.hub ? HUB_REQUIREMENTS : LAB_REQUIREMENTS);
  const dir = venvDir(root);
  if (!opts.force && venvUpToDate(dir, requirements)) {
    console.log(`The course's Jupyter environment in ${dir} is up to date (${path.basename(requirements)}).`);
    return dir;
  }
  const python = basePython();
  const version = await checkPython(python);
  removeOldVenv(dir);
  console.log(`Creating ${dir} with ${python} (Python ${version}) and installing ${path.basename(requirements)} ...`);
  const venv = await execa(python, ["-m", "venv", dir], { reject: false, stdin: "ignore", all: true });
  if (venv.exitCode !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`\`${python} -m venv\` failed:\n${venv.all}\nOn Debian/Ubuntu install the venv module: sudo apt-get install python3-venv`);
  }
  const pip = await execa(venvBin(dir, "python"), ["-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off",
    "--no-input", "-r", requirements], { reject: false, stdin: "ignore", stdout: "inherit", stderr: "inherit" });
  if (pip.exitCode !== 0) {
    throw new Error(`pip could not install ${path.basename(requirements)} (see above). Check the network (PyPI) and rerun \`npm run jupyter:install\`.`);
  }
  await verify(dir, opts.hub);
  writeStampAtomic(dir, {
    requirements: path.basename(requirements), sha256: requirementsDigest(requirements), python: version, installed: new Date().toISOString(),
  });
  await registerKernel(dir);
  console.log(`Installed the course's Jupyter environment in ${dir}. \`npm start\` uses it.`);
  return dir;
}

/** The course kernel, registered inside the venv (`kernel:install -- --sys-prefix` with the venv's jupyter). */
async function registerKernel(dir: string): Promise<void> {
  const saved = process.env;
  process.env = envWithVenv(path.dirname(venvBin(dir, "jupyter")));
  try {
    const r = await installKernelspec(root, "sys-prefix");
    console.log(`Registered the kernel "TypeScript (CNN lessons)" in ${r.dir}`);
  } finally {
    process.env = saved;
  }
}

/** The programs we rely on answer, and plotly's JupyterLab renderer is there. */
async function verify(dir: string, hub: boolean): Promise<void> {
  const { execa } = await loadExeca();
  const lab = await execa(venvBin(dir, "jupyter"), ["lab", "--version"], { stdin: "ignore" });
  const exts = await execa(venvBin(dir, "jupyter"), ["labextension", "list"], { stdin: "ignore", all: true });
  if (!/jupyterlab-plotly/.test(exts.all ?? "")) throw new Error("plotly's JupyterLab extension (jupyterlab-plotly) is missing after the install.");
  let line = `JupyterLab ${lab.stdout.trim()} with jupyterlab-plotly`;
  if (hub) line += `, JupyterHub ${(await execa(venvBin(dir, "jupyterhub"), ["--version"], { stdin: "ignore" })).stdout.trim()}`;
  console.log(line);
}

async function main(): Promise<void> {
  const program = new Command()
    .name("npm run jupyter:install --")
    .description("Install the course's pinned Jupyter environment (a Python venv in .venv-jupyter/)")
    .option("--hub", "also install JupyterHub (requirements-hub.txt), for a shared classroom server", false)
    .option("--force", "rebuild even when it is up to date", false)
    .parse();
  await installVenv(program.opts<{ hub: boolean; force: boolean }>());
}

if (require.main === module) {
  main().catch((e: Error) => {
    console.error(`jupyter:install: ${e.message}`);
    process.exit(1);
  });
}
