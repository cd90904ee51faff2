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
import { copyFileAtomic, downloadFile, hashFile, NetworkUnavailableError, sha256File } from "./download";

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

/**
 * The offline mirror folder: LESSONS_DATA_MIRROR when set ("none" or empty disables it); otherwise `../shared/data`
 * beside the project when that folder exists (how the course's CI machine is laid out); otherwise none.
 */
export function mirrorDir(): string | null {
  const env = process.env.LESSONS_DATA_MIRROR;
  if (env !== undefined) return env === "" || env === "none" ? null : path.resolve(env);
  const beside = path.resolve(projectRoot(), "..", "shared", "data");
  return fs.existsSync(beside) ? beside : null;
}

export function isOffline(opts: FetchOptions = {}): boolean {
  return opts.offline ?? process.env.LESSONS_OFFLINE === "1";
}

/** `<dataDir()>/<dataset>`, created on demand. */
export function datasetDir(dataset: string): string {
  const dir = path.join(dataDir(), dataset);
  fs.mkdirSync(dir, { recursive: true });
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
  if (spec.url) lines.push(`  * with internet access: npm run data -- ${dataset}   (downloads ${spec.url})`);
  if (spec.mirrorPath) {
    lines.push(`  * from an offline mirror: LESSONS_DATA_MIRROR=/path/to/mirror, holding <mirror>/${spec.mirrorPath} (see data/README.md)`);
  }
  lines.push(`  * by hand: copy the file to ${dest}; it is verified on first use.`);
  return lines.join("\n");
}

/**
 * Make sure `<dataDir()>/<dataset>/<spec.name>` holds a verified copy of the file and return its path.
 * Throws DatasetUnavailableError (naming the dataset, the URL and the alternatives) when no source has it,
 * and VerificationError when a found file is wrong.
 */
export async function ensureFile(dataset: string, spec: FileSpec, opts: FetchOptions = {}): Promise<string> {
  const dir = datasetDir(dataset);
  const dest = path.join(dir, spec.name);
  const label = `${dataset}/${spec.name}`;
  const log = opts.verbose === false ? () => undefined : (m: string) => console.error(m);

  if (fs.existsSync(dest)) {
    const entry = readManifest(dataset)[spec.name];
    const size = fs.statSync(dest).size;
    if (entry && entry.bytes === size) return dest;
    // Copied by hand (or the manifest is stale): verify it in place before trusting it.
    const verifiedBy = verifyFile(dest, spec, `${label} (in the cache at ${dest}; delete it to fetch it again)`);
    recordInManifest(dataset, spec.name, {
      sha256: sha256File(dest),
      bytes: size,
      source: "found in cache (copied by hand)",
      verifiedBy,
      acceptedAt: new Date().toISOString(),
    });
    return dest;
  }

  const reasons: string[] = [];
  let verifiedBy = "";
  const accept = (source: string) => {
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
  if (mirror && spec.mirrorPath) {
    const src = path.join(mirror, spec.mirrorPath);
    if (fs.existsSync(src)) {
      await copyFileAtomic(src, dest, verifier(src));
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
      if (e instanceof NetworkUnavailableError) reasons.push(`no internet: ${e.message}`);
      else throw new DatasetUnavailableError(`${unavailableMessage(dataset, spec, [...reasons, (e as Error).message], dest)}`);
    }
  }
  throw new DatasetUnavailableError(unavailableMessage(dataset, spec, reasons, dest));
}
