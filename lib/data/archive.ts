/**
 * Reading .tar.gz archives safely. Every entry is checked before anything is written: an entry whose path is
 * absolute, contains "..", or that is a link or device is refused, and the whole archive is rejected.
 */
import * as fs from "fs";
import * as path from "path";
import * as tar from "tar";
import { removeStalePartials } from "./download";

const ALLOWED_TYPES = new Set(["File", "OldFile", "ContiguousFile", "Directory"]);

/** Throws if the archive entry could escape `target` or is not a plain file or folder. */
export function checkArchiveEntry(archive: string, entryPath: string, type: string, target = "/__target__"): void {
  const problem = (why: string) =>
    new Error(`Refusing archive ${archive}: entry "${entryPath}" ${why}. The archive may be hostile; nothing was extracted.`);
  if (!ALLOWED_TYPES.has(type)) throw problem(`is a ${type}, not a plain file or folder (links and devices are not allowed)`);
  if (entryPath.startsWith("/") || entryPath.startsWith("\\") || /^[a-zA-Z]:/.test(entryPath)) throw problem("has an absolute path");
  if (entryPath.split(/[\\/]+/).includes("..")) throw problem('contains ".." (it would escape the target folder)');
  const resolved = path.resolve(target, entryPath);
  if (resolved !== path.resolve(target) && !resolved.startsWith(path.resolve(target) + path.sep)) {
    throw problem("resolves outside the target folder");
  }
}

/**
 * Stream through a .tar.gz and hand every regular file whose path passes `want` to `onFile` (in archive order).
 * Entries are validated first, so a hostile entry anywhere rejects the archive.
 */
export async function readTarGz(
  archive: string,
  onFile: (entryPath: string, data: Buffer) => void,
  want: (entryPath: string) => boolean = () => true,
): Promise<void> {
  let failure: Error | undefined;
  await new Promise<void>((resolve, reject) => {
    const parser = new tar.Parser({
      strict: true,
      onReadEntry: (entry) => {
        if (failure) return entry.resume();
        try {
          checkArchiveEntry(archive, entry.path, entry.type);
        } catch (e) {
          failure = e as Error;
          entry.resume();
          return;
        }
        if (entry.type === "Directory" || !want(entry.path)) return entry.resume();
        const chunks: Buffer[] = [];
        entry.on("data", (c: Buffer) => chunks.push(c));
        entry.on("end", () => {
          if (!failure) onFile(entry.path, Buffer.concat(chunks));
        });
      },
    });
    parser.on("error", (e: Error) => reject(new Error(`Cannot read archive ${archive}: ${e.message}`)));
    parser.on("end", () => resolve());
    const input = fs.createReadStream(archive);
    input.on("error", reject);
    input.pipe(parser);
  });
  if (failure) throw failure;
}

/** List the entries of a .tar.gz, refusing hostile ones. */
export async function listTarGz(archive: string): Promise<string[]> {
  const names: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let failure: Error | undefined;
    tar
      .t({
        file: archive,
        strict: true,
        onReadEntry: (entry) => {
          try {
            checkArchiveEntry(archive, entry.path, entry.type);
            names.push(entry.path);
          } catch (e) {
            failure ??= e as Error;
          }
        },
      })
      .then(() => (failure ? reject(failure) : resolve()), (e: Error) => reject(new Error(`Cannot read archive ${archive}: ${e.message}`)));
  });
  return names;
}

/**
 * Extract a .tar.gz into `target` after checking every entry (see checkArchiveEntry). Extraction goes into a
 * temporary folder that is renamed to `target` only when complete.
 */
export async function extractTarGz(archive: string, target: string): Promise<void> {
  const names = await listTarGz(archive);
  for (const n of names) checkArchiveEntry(archive, n, "File", target);
  const temp = `${target}.partial-${process.pid}`;
  removeStalePartials(path.dirname(target));
  fs.rmSync(temp, { recursive: true, force: true });
  fs.mkdirSync(temp, { recursive: true });
  try {
    await tar.x({ file: archive, cwd: temp, strict: true, preservePaths: false, noChmod: true });
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(temp, target);
  } catch (e) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw e;
  }
}
