/**
 * Downloading one file safely: stream into a temporary file next to the destination (with a progress bar),
 * check it, then rename it into place. A failed or interrupted download never leaves a file under the final
 * name, and transient failures are retried with exponential back-off.
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import * as crypto from "crypto";
import * as cliProgress from "cli-progress";

export interface DownloadOptions {
  /** Short name shown in messages, e.g. "cifar10/cifar-10-binary.tar.gz". */
  label?: string;
  /** Attempts in all (default 4). */
  attempts?: number;
  /** First back-off delay in ms, doubled after each failure (default 1000). */
  backoffMs?: number;
  /** Give up on a connection that sends nothing for this long (default 30 s). */
  idleTimeoutMs?: number;
  /** Called on the complete temporary file before it is renamed into place; throw to reject it. */
  verify?: (tempFile: string) => void | Promise<void>;
  /** Print progress (default: true). */
  progress?: boolean;
}

/** Thrown when the server could not be reached at all (offline, DNS failure, refused connection). */
export class NetworkUnavailableError extends Error {
  constructor(
    public readonly url: string,
    public readonly causeText: string,
  ) {
    super(`Cannot reach ${url}: ${causeText}`);
    this.name = "NetworkUnavailableError";
  }
}

/** Errors that will not get better by retrying (HTTP 4xx, checksum mismatch). */
class PermanentError extends Error {}

const OFFLINE_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ENETUNREACH", "EHOSTUNREACH"]);

export function sha256File(file: string): string {
  return hashFile(file, "sha256");
}

export function hashFile(file: string, algorithm: "sha256" | "md5"): string {
  const hash = crypto.createHash(algorithm);
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest("hex");
}

/** A unique temporary name beside `dest`, so the final rename stays on one filesystem (atomic). */
export function tempPathFor(dest: string): string {
  return path.join(path.dirname(dest), `.${path.basename(dest)}.partial-${process.pid}-${crypto.randomBytes(4).toString("hex")}`);
}

/** True while process `pid` exists (EPERM: it exists but belongs to another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

const sweptDirs = new Set<string>();

/**
 * Removes what an interrupted download, copy or extraction left in `dir`: entries named `*.partial-<pid>...` whose
 * process has ended (Ctrl-C or a crash skips the clean-up in the middle of a download). Once per folder and process;
 * a read-only folder is left alone.
 */
export function removeStalePartials(dir: string): void {
  if (sweptDirs.has(dir)) return;
  sweptDirs.add(dir);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.match(/\.partial-(\d+)(?:-[0-9a-f]+)?$/)?.[1]);
    if (!pid || pid === process.pid || processAlive(pid)) continue;
    try {
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    } catch {
      /* a read-only shared cache: nothing we may clean */
    }
  }
}

function removeQuietly(file: string): void {
  try {
    fs.rmSync(file, { force: true });
  } catch {
    /* nothing to clean */
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function fetchToFile(url: string, tempFile: string, opts: DownloadOptions, redirectsLeft = 5): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const client = url.startsWith("https:") ? https : http;
    let responded = false;
    const req = client.get(url, { headers: { "user-agent": "cnn-lessons-ts data loader" } }, (res) => {
      responded = true;
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirectsLeft <= 0) return reject(new PermanentError(`too many redirects from ${url}`));
        const next = new URL(res.headers.location, url).toString();
        fetchToFile(next, tempFile, opts, redirectsLeft - 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        const err = new Error(`HTTP ${status} from ${url}`);
        return reject(status >= 400 && status < 500 ? new PermanentError(err.message) : err);
      }
      const total = Number(res.headers["content-length"] ?? 0);
      const out = fs.createWriteStream(tempFile);
      let received = 0;
      const bar =
        opts.progress !== false && process.stderr.isTTY
          ? new cliProgress.SingleBar(
              { format: `${opts.label ?? path.basename(url)} [{bar}] {percentage}% {value}/{total} bytes`, stream: process.stderr },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
      bar?.start(total || 1, 0);
      let finished = false;
      const failOnce = (err: Error) => {
        if (finished) return;
        finished = true;
        bar?.stop();
        // Reject only once the file is closed, so the caller's clean-up cannot race a late open or write.
        out.once("close", () => reject(err));
        out.destroy();
      };
      res.on("data", (chunk: Buffer) => {
        received += chunk.length;
        bar?.update(received);
      });
      res.on("aborted", () => failOnce(new Error(`connection cut after ${received} of ${total || "?"} bytes`)));
      res.on("error", (e) => failOnce(new Error(`download interrupted after ${received} bytes: ${e.message}`)));
      out.on("error", (e) => failOnce(e));
      res.pipe(out);
      out.on("close", () => {
        if (finished) return;
        finished = true;
        bar?.stop();
        if (!res.complete || (total > 0 && received !== total)) {
          reject(new Error(`download interrupted: got ${received} of ${total || "?"} bytes`));
        } else {
          resolve();
        }
      });
    });
    const idle = opts.idleTimeoutMs ?? 30_000;
    req.setTimeout(idle, () => {
      // No answer at all (a firewall dropping packets) counts as offline: retrying would only make lessons wait.
      req.destroy(responded ? new Error(`no data for ${idle / 1000} s`) : new NetworkUnavailableError(url, `no answer within ${idle / 1000} s`));
    });
    req.on("error", (e: NodeJS.ErrnoException) => {
      if (e instanceof NetworkUnavailableError) reject(e);
      else if (e.code && OFFLINE_CODES.has(e.code)) reject(new NetworkUnavailableError(url, `${e.code} ${e.message}`));
      else reject(e);
    });
  });
}

/**
 * Download `url` to `dest` atomically. Resolves once `dest` holds the complete, verified file.
 * Throws NetworkUnavailableError when the host cannot be reached at all (no retries: we are offline).
 */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<void> {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const attempts = opts.attempts ?? 4;
  let delay = opts.backoffMs ?? 1000;
  const label = opts.label ?? path.basename(dest);
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const temp = tempPathFor(dest);
    try {
      if (opts.progress !== false) console.error(`Downloading ${label} from ${url}${attempt > 1 ? ` (attempt ${attempt})` : ""}`);
      await fetchToFile(url, temp, opts);
      if (opts.verify) {
        try {
          await opts.verify(temp);
        } catch (e) {
          throw new PermanentError((e as Error).message);
        }
      }
      fs.renameSync(temp, dest);
      return;
    } catch (e) {
      removeQuietly(temp);
      lastError = e as Error;
      if (e instanceof NetworkUnavailableError || e instanceof PermanentError) throw e;
      if (attempt < attempts) {
        if (opts.progress !== false) console.error(`  ${label}: ${lastError.message}; retrying in ${delay} ms`);
        await sleep(delay);
        delay *= 2;
      }
    }
  }
  throw new Error(`Download of ${label} from ${url} failed after ${attempts} attempts: ${lastError?.message}`);
}

/** Copy a local file to `dest` the same careful way: temporary copy, verify, rename. */
export async function copyFileAtomic(src: string, dest: string, verify?: (tempFile: string) => void | Promise<void>): Promise<void> {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const temp = tempPathFor(dest);
  try {
    fs.copyFileSync(src, temp);
    fs.chmodSync(temp, 0o644); // mirror files may be read-only; the cache copy should be deletable
    if (verify) await verify(temp);
    fs.renameSync(temp, dest);
  } catch (e) {
    removeQuietly(temp);
    throw e;
  }
}
