/**
 * Noticing that the command that started us is gone. `npm run notebooks` runs us under npm, `sh -c` and tsx's
 * wrapper; killing npm leaves those in-between processes alive but orphaned, so watching only our own parent is
 * not enough. We watch every process of that launcher chain (read from /proc on Linux) and report when one of
 * them changed parent, i.e. the launcher above it ended. Above the last launcher (the user's shell) nothing is
 * watched, so `nohup npm run notebooks &` survives a closed terminal as nohup promises.
 */
import * as fs from "fs";
import * as path from "path";

interface ProcInfo {
  ppid: number;
  argv: string[];
}

function procInfo(pid: number): ProcInfo | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const ppid = Number(status.match(/^PPid:\s+(\d+)/m)?.[1]);
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    return Number.isFinite(ppid) ? { ppid, argv } : undefined;
  } catch {
    return undefined;
  }
}

/** npm itself, the `sh -c` it runs scripts with, and tsx's wrapper process. */
export function isLauncher(argv: string[]): boolean {
  const names = argv.slice(0, 3).map((a) => path.basename(a));
  if (names.includes("npm") || names.includes("npm-cli.js") || names.includes("npx") || names.includes("npx-cli.js")) return true;
  if (argv.some((a) => /[\\/]tsx[\\/]dist[\\/]cli\.m?js$|[\\/]\.bin[\\/]tsx$/.test(a))) return true;
  return ["sh", "dash", "bash"].includes(names[0] ?? "") && argv[1] === "-c";
}

/** [pid, its parent when it was recorded] for us and for each launcher-started process above us. */
export function launcherChain(self = process.pid): [number, number][] {
  const watched: [number, number][] = [];
  let pid = self;
  for (let depth = 0; depth < 12; depth++) {
    const me = procInfo(pid);
    if (!me) break;
    watched.push([pid, me.ppid]);
    const parent = procInfo(me.ppid);
    if (!parent || me.ppid <= 1 || !isLauncher(parent.argv)) break;
    pid = me.ppid;
  }
  if (watched.length === 0) watched.push([self, process.ppid]);
  return watched;
}

/** True when a watched process has a new parent or has ended (its launcher was killed). */
export function launcherGone(chain: [number, number][]): boolean {
  return chain.some(([pid, ppid], i) => {
    if (i === 0 && pid === process.pid) return process.ppid !== ppid;
    const info = procInfo(pid);
    return info ? info.ppid !== ppid : true;
  });
}
