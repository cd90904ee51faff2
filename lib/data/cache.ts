/**
 * The download cache: one folder per dataset under dataDir(), each with a small manifest.json recording what was
 * accepted (sha256, size, where it came from, how it was checked).
 *
 * A file is obtained from, in order: the cache; a system copy (e.g. a Debian package); the offline mirror
 * (LESSONS_DATA_MIRROR); the official URL. Whatever the source, it is copied to a temporary name, verified and
 * only then renamed into place.
 */
import * as fs from "fs";
import * as path from "path";
import { dataDir, projectRoot } from "../paths";
import { dataDirSetting, dataMirrorSetting, offlineMode } from "../config";
import { copyFileAtomic, downloadFile, hashFile, NetworkUnavailableError, removeStalePartials, sha256File } from "./download";

export interface FileSpec {
  /** File name inside the dataset's cache folder. */
  name: string;
  /** Official download URL (omit when there is none). */
  url?: string;
  /** Path inside the mirror folder, e.g. "cifar10/cifar10-train-jpg.tar.gz". */
  mirrorPath?: string;
  /** Local system copies to try first (e.g. files installed by a Debian package). */
  systemPaths?: string[];
  bytes?: number;
  sha256?: string;
  md5?: string;
  /** Structural check for files without a published checksum: throw with a clear message to reject. */
  check?: (file: string) => void;
}

export interface FetchOptions {
  /** Mirror folder; `null` disables the mirror. Default: mirrorDir(). */
  mirror?: string | null;
  /** Never touch the network (default: LESSONS_OFFLINE=1). */
  offline?: boolean;
  /** Print progress and where files came from (default true). */
  verbose?: boolean;
  /** Download attempts and first back-off delay (tests shorten these). */
  attempts?: number;
  backoffMs?: number;
}

export interface ManifestEntry {
  sha256: string;
  bytes: number;
  source: string;
  verifiedBy: string;
  acceptedAt: string;
}

/** Raised when no source could provide a file; the message says how to get it by other means. */
export class DatasetUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatasetUnavailableError";
  }
}

/** Raised when a file was found but failed verification. */
export class VerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VerificationError";
  }
}

/** Raised when the cache folder cannot be written; the message names LESSONS_DATA_DIR. */
export class CacheNotWritableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CacheNotWritableError";
  }
}

/** The cache folder names that `npm run data` knows by another name. */
const DATA_COMMAND_NAMES: Record<string, string> = { "mobilenet_v1_0.25_224": "mobilenet" };

/** The command that fetches a dataset again, e.g. `npm run data -- mobilenet`. */
export function dataCommand(dataset: string): string {
  return `npm run data -- ${DATA_COMMAND_NAMES[dataset] ?? dataset}`;
}

/** Extra lines for the "how to fix it" part, where a dataset's mirror can take more than one form. */
const MIRROR_NOTES: Record<string, string> = {
  cifar10:
    "a CIFAR-10 mirror holds either the official binary archive cifar10/cifar-10-binary.tar.gz, or the JPEG form: " +
    "cifar10/cifar10-train-jpg.tar.gz, cifar10/cifar10-test-jpg.tar.gz and cifar10/cifar10-labels-official-order.json",
};

const UNWRITABLE = new Set(["EACCES", "EPERM", "EROFS", "ENOTDIR"]);

function isUnwritable(e: unknown): e is NodeJS.ErrnoException {
  return typeof (e as NodeJS.ErrnoException)?.code === "string" && UNWRITABLE.has((e as NodeJS.ErrnoException).code!);
}

function unwritableError(dir: string, e: NodeJS.ErrnoException): CacheNotWritableError {
  const fromEnv = dataDirSetting() !== undefined ? " (set by LESSONS_DATA_DIR)" : "";
  return new CacheNotWritableError(
    `Cannot write to the data cache ${dir}${fromEnv}: ${e.message}.\n` +
      "Fix: make it writable, or point LESSONS_DATA_DIR at a folder you can write, e.g. " +
      "LESSONS_DATA_DIR=$HOME/lessons-data npm run data (and set the same variable where Jupyter starts).",
  );
}

/**
 * The offline mirror folder: LESSONS_DATA_MIRROR when set ("none" or empty disables it); otherwise `../shared/data`
 * beside the project when that folder exists (how the course's CI machine is laid out); otherwise none.
 */
export function mirrorDir(): string | null {
  const setting = dataMirrorSetting();
  if (setting !== undefined) return setting;
  const beside = path.resolve(projectRoot(), "..", "shared", "data");
  return fs.existsSync(beside) ? beside : null;
}

export function isOffline(opts: FetchOptions = {}): boolean {
  return opts.offline ?? offlineMode();
}

/** `<dataDir()>/<dataset>`, created on demand (an existing read-only folder is fine). */
export function datasetDir(dataset: string): string {
  const dir = path.join(dataDir(), dataset);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    if (isUnwritable(e)) throw unwritableError(dir, e);
    throw e;
  }
  return dir;
}

function manifestPath(dataset: string): string {
  return path.join(datasetDir(dataset), "manifest.json");
}

export function readManifest(dataset: string): Record<string, ManifestEntry> {
  try {
    return JSON.parse(fs.readFileSync(manifestPath(dataset), "utf8")).files ?? {};
  } catch {
    return {};
  }
}

export function recordInManifest(dataset: string, name: string, entry: ManifestEntry): void {
  const files = readManifest(dataset);
  files[name] = entry;
  const target = manifestPath(dataset);
  const temp = `${target}.tmp-${process.pid}`;
  fs.writeFileSync(temp, JSON.stringify({ dataset, files }, null, 2) + "\n");
  fs.renameSync(temp, target);
}

/** Check size, checksums and structure of a candidate file; returns how it was verified. */
export function verifyFile(file: string, spec: FileSpec, label: string): string {
  const how: string[] = [];
  if (spec.bytes !== undefined) {
    const size = fs.statSync(file).size;
    if (size !== spec.bytes) {
      throw new VerificationError(
        `${label}: size is ${size} bytes, expected ${spec.bytes}` +
          (size < spec.bytes ? " (the file is truncated: an interrupted download or copy)." : "."),
      );
    }
    how.push("size");
  }
  if (spec.sha256) {
    const got = sha256File(file);
    if (got !== spec.sha256) throw new VerificationError(`${label}: checksum mismatch: sha256 is ${got}, expected ${spec.sha256}.`);
    how.push("sha256");
  }
  if (spec.md5) {
    const got = hashFile(file, "md5");
    if (got !== spec.md5) throw new VerificationError(`${label}: checksum mismatch: md5 is ${got}, expected ${spec.md5}.`);
    how.push("md5");
  }
  if (spec.check) {
    try {
      spec.check(file);
    } catch (e) {
      throw new VerificationError(`${label}: ${(e as Error).message}`);
    }
    how.push("structure");
  }
  return how.join("+") || "none";
}

function unavailableMessage(dataset: string, spec: FileSpec, reasons: string[], dest: string): string {
  const lines = [`Cannot get ${dataset}/${spec.name}.`];
  for (const r of reasons) lines.push(`  - ${r}`);
  lines.push("How to fix it:");
  if (spec.url) lines.push(`  * with internet access: ${dataCommand(dataset)}   (downloads ${spec.url})`);
  if (spec.mirrorPath) {
    lines.push(`  * from an offline mirror: LESSONS_DATA_MIRROR=/path/to/mirror, holding <mirror>/${spec.mirrorPath} (see data/README.md)`);
    if (MIRROR_NOTES[dataset]) lines.push(`    (${MIRROR_NOTES[dataset]})`);
  }
  lines.push(`  * by hand: copy the file to ${dest}; it is verified on first use.`);
  return lines.join("\n");
}

/** Cached files whose content was checked in this process: path -> "size:mtime" when it was checked. */
const checkedThisProcess = new Map<string, string>();

function stamp(file: string): string {
  const st = fs.statSync(file);
  return `${st.size}:${st.mtimeMs}`;
}

/**
 * Why the cached copy at `dest` cannot be trusted, or undefined when it is good. The first use in a process hashes
 * the file and compares it with the sha256 recorded when it was accepted (and the published one, where known):
 * same-size damage (a flipped block, shifted labels) is caught, not only truncation. Hashing every file of the course
 * takes about 0.15 s (the 21 MB mirror: CIFAR-10 JPEGs and MobileNet) plus 0.5 s for the 170 MB CIFAR-10 binary
 * archive when it is used (measured on the course's 2-core machine).
 */
function cachedCopyProblem(dataset: string, spec: FileSpec, dest: string, label: string): string | undefined {
  if (checkedThisProcess.get(dest) === stamp(dest)) return undefined;
  const entry = readManifest(dataset)[spec.name];
  try {
    if (entry) {
      const size = fs.statSync(dest).size;
      if (size !== entry.bytes) return `size is ${size} bytes, but ${entry.bytes} were accepted on ${entry.acceptedAt}`;
      const got = sha256File(dest);
      const expected = spec.sha256 ?? entry.sha256;
      if (got !== entry.sha256 || got !== expected) return `sha256 is ${got}, expected ${expected} (its content changed after it was accepted)`;
    } else {
      // Copied by hand (or the manifest is missing): verify it in place before trusting it.
      const verifiedBy = verifyFile(dest, spec, label);
      tryRecord(dataset, spec.name, { sha256: sha256File(dest), bytes: fs.statSync(dest).size, source: "found in cache (copied by hand)", verifiedBy, acceptedAt: new Date().toISOString() });
    }
  } catch (e) {
    if (e instanceof VerificationError) return e.message.slice(label.length + 2);
    throw e;
  }
  checkedThisProcess.set(dest, stamp(dest));
  return undefined;
}

/** A read-only shared cache whose files verify is used as it is: failing to record a hand-copied file is no error. */
function tryRecord(dataset: string, name: string, entry: ManifestEntry): void {
  try {
    recordInManifest(dataset, name, entry);
  } catch (e) {
    if (!isUnwritable(e)) throw e;
  }
}

function damagedMessage(dataset: string, spec: FileSpec, dest: string, problem: string, reasons: string[]): string {
  const lines = [`The cached file ${dest} (${dataset}/${spec.name}) is damaged: ${problem}.`];
  if (reasons.length) lines.push(`It could not be fetched again: ${reasons.join("; ")}.`);
  lines.push(
    `Fix: delete it and fetch it again: rm ${JSON.stringify(dest)} && ${dataCommand(dataset)}` +
      (spec.mirrorPath ? ` (with internet access, or LESSONS_DATA_MIRROR set to a mirror holding ${spec.mirrorPath})` : ""),
  );
  return lines.join("\n");
}

/**
 * Make sure `<dataDir()>/<dataset>/<spec.name>` holds a verified copy of the file and return its path.
 * A damaged cached copy is fetched again from the mirror or the network when one has it (atomically).
 * Throws DatasetUnavailableError (naming the dataset, the URL and the alternatives) when no source has it,
 * VerificationError when a found file is wrong, and CacheNotWritableError when the cache cannot be written.
 */
export async function ensureFile(dataset: string, spec: FileSpec, opts: FetchOptions = {}): Promise<string> {
  const dir = datasetDir(dataset);
  const dest = path.join(dir, spec.name);
  const label = `${dataset}/${spec.name}`;
  const log = opts.verbose === false ? () => undefined : (m: string) => console.error(m);
  removeStalePartials(dir);

  let damage: string | undefined;
  if (fs.existsSync(dest)) {
    damage = cachedCopyProblem(dataset, spec, dest, label);
    if (!damage) return dest;
    log(`${label}: the cached copy is damaged (${damage}); fetching it again.`);
  }
  try {
    return await fetchIntoCache(dataset, spec, dest, label, opts, log);
  } catch (e) {
    if (isUnwritable(e)) throw unwritableError(dir, e);
    if (damage !== undefined && e instanceof DatasetUnavailableError) {
      const reasons = e.message.split("\n").filter((l) => l.startsWith("  - ")).map((l) => l.slice(4));
      throw new VerificationError(damagedMessage(dataset, spec, dest, damage, reasons));
    }
    throw e;
  }
}

async function fetchIntoCache(dataset: string, spec: FileSpec, dest: string, label: string, opts: FetchOptions, log: (m: string) => void): Promise<string> {
  const reasons: string[] = [];
  let verifiedBy = "";
  const accept = (source: string) => {
    checkedThisProcess.set(dest, stamp(dest));
    recordInManifest(dataset, spec.name, {
      sha256: sha256File(dest),
      bytes: fs.statSync(dest).size,
      source,
      verifiedBy,
      acceptedAt: new Date().toISOString(),
    });
    // One line per big file is enough; MobileNet alone has 55 tiny shards.
    if (fs.statSync(dest).size >= 1e6 || /^https?:/.test(source)) log(`${label}: verified (${verifiedBy}) from ${source}`);
    return dest;
  };
  const verifier = (src: string) => (temp: string) => {
    verifiedBy = verifyFile(temp, spec, `${label} from ${src}`);
  };

  for (const sys of spec.systemPaths ?? []) {
    if (!fs.existsSync(sys)) continue;
    await copyFileAtomic(sys, dest, verifier(sys));
    return accept(sys);
  }

  const mirror = opts.mirror === undefined ? mirrorDir() : opts.mirror;
  if (mirror && !fs.existsSync(mirror)) {
    reasons.push(`the mirror folder ${mirror} (LESSONS_DATA_MIRROR) does not exist: check the path`);
  } else if (mirror && spec.mirrorPath) {
    const src = path.join(mirror, spec.mirrorPath);
    if (fs.existsSync(src)) {
      try {
        await copyFileAtomic(src, dest, verifier(src));
      } catch (e) {
        if (!(e instanceof VerificationError)) throw e;
        throw new VerificationError(
          `${e.message}\nThe mirror's copy is damaged: recopy the mirror file ${src} from the original source ` +
            `(see data/README.md), or run without the mirror (LESSONS_DATA_MIRROR=none) to download it.`,
        );
      }
      return accept(src);
    }
    reasons.push(`not in the mirror: ${src} does not exist`);
  } else if (spec.mirrorPath) {
    reasons.push("no mirror set (LESSONS_DATA_MIRROR)");
  }

  if (!spec.url) {
    reasons.push("there is no download URL for this file");
  } else if (isOffline(opts)) {
    reasons.push(`offline mode (LESSONS_OFFLINE=1): did not try ${spec.url}`);
  } else {
    try {
      await downloadFile(spec.url, dest, {
        label,
        verify: verifier(spec.url),
        progress: opts.verbose !== false,
        attempts: opts.attempts,
        backoffMs: opts.backoffMs,
      });
      return accept(spec.url);
    } catch (e) {
      if (isUnwritable(e)) throw e;
      if (e instanceof NetworkUnavailableError) reasons.push(`no internet: ${e.message}`);
      else throw new DatasetUnavailableError(`${unavailableMessage(dataset, spec, [...reasons, (e as Error).message], dest)}`);
    }
  }
  throw new DatasetUnavailableError(unavailableMessage(dataset, spec, reasons, dest));
}
