/**
 * One run at a time per output folder: two runs writing the same executed copies would overwrite each other's
 * work without a word. The lock is a file created exclusively in the folder; a lock whose process has ended
 * (the run was killed) is taken over.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const LOCK_NAME = ".lessons-runner.lock";

interface LockInfo {
  pid: number;
  host: string;
  started: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readLock(file: string): LockInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/** Raised when the folder cannot be used; the message is one line that says what to do. */
export class OutFolderError extends Error {}

/** Creates `dir` and takes its lock; returns the function that releases it. */
export function lockOutFolder(dir: string): () => void {
  const file = path.join(dir, LOCK_NAME);
  const mine: LockInfo = { pid: process.pid, host: os.hostname(), started: new Date().toISOString() };
  try {
    fs.mkdirSync(dir, { recursive: true });
    for (let attempt = 0; ; attempt++) {
      try {
        fs.writeFileSync(file, JSON.stringify(mine) + "\n", { flag: "wx" });
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw e;
        const other = readLock(file);
        if (other && (other.host !== mine.host || alive(other.pid))) {
          throw new OutFolderError(
            `Another run (pid ${other.pid} on ${other.host}, started ${other.started}) is writing to ${dir}. ` +
              `Wait for it to finish, or give this run its own folder with --out DIR.`,
          );
        }
        fs.rmSync(file, { force: true }); // left by a run that was killed
      }
    }
  } catch (e) {
    if (e instanceof OutFolderError) throw e;
    throw new OutFolderError(`Cannot write to the output folder ${dir} (${(e as Error).message}). Choose a folder you can write with --out DIR.`);
  }
  return () => {
    if (readLock(file)?.pid === process.pid) fs.rmSync(file, { force: true });
  };
}
