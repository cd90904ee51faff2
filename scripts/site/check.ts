/**
 * Opens every page of a built site in headless Chromium (served from 127.0.0.1 by a small static server, the way
 * a web host would) and reports broken things: a page that does not load, an image that does not show, a link
 * to a page or file that is missing, a link to an anchor that is not on its page, any request for a resource
 * outside the site. Links to other web sites are listed, not followed (the check runs offline).
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import type { AddressInfo } from "net";
import { launchChromium } from "../render-static-plots";

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml", ".js": "text/javascript" };

/** Serves `dir` read-only on 127.0.0.1; resolves with its origin and a close function. */
export function serveFolder(dir: string): Promise<{ origin: string; close(): Promise<void> }> {
  const rootDir = path.resolve(dir);
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const file = path.resolve(rootDir, "." + (rel.endsWith("/") ? rel + "index.html" : rel));
    if (!file.startsWith(rootDir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "Content-Type": TYPES[path.extname(file)] ?? "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve({ origin, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

interface PageFacts {
  images: { src: string; ok: boolean }[];
  links: string[];
  ids: string[];
}

export async function checkSite(dir: string): Promise<string[]> {
  const pages = fs.readdirSync(dir).filter((f) => f.endsWith(".html")).sort();
  if (!pages.includes("index.html")) return [`${dir} has no index.html`];
  const server = await serveFolder(dir);
  const browser = await launchChromium();
  const problems: string[] = [];
  const external = new Set<string>();
  try {
    const page = await browser.context.newPage();
    await page.route("**/*", (route) => {
      const u = route.request().url();
      if (u.startsWith(server.origin) || u.startsWith("data:")) return route.continue();
      problems.push(`a page requested ${u}, outside the site`);
      return route.abort();
    });
    const facts = new Map<string, PageFacts>();
    for (const name of pages) {
      const res = await page.goto(`${server.origin}/${name}`, { waitUntil: "load", timeout: 60_000 });
      if (!res?.ok()) {
        problems.push(`${name}: HTTP ${res?.status()}`);
        continue;
      }
      facts.set(name, await page.evaluate(() => ({
        images: Array.from(document.images).map((i) => ({ src: i.getAttribute("src")?.slice(0, 80) ?? "", ok: i.complete && i.naturalWidth > 0 })),
        links: Array.from(document.querySelectorAll("a[href]")).map((a) => (a as HTMLAnchorElement).href),
        ids: Array.from(document.querySelectorAll("[id]")).map((e) => e.id),
      })));
    }
    for (const [name, f] of facts) {
      for (const img of f.images) if (!img.ok) problems.push(`${name}: image does not show (${img.src})`);
      for (const link of f.links) {
        const u = new URL(link);
        if (u.origin !== server.origin) {
          if (u.protocol === "http:" || u.protocol === "https:") external.add(u.href);
          else if (u.protocol !== "mailto:") problems.push(`${name}: link with an unexpected scheme: ${link}`);
          continue;
        }
        const target = decodeURIComponent(u.pathname).replace(/^\//, "") || "index.html";
        if (!fs.existsSync(path.join(dir, target))) {
          problems.push(`${name}: link to a missing page or file: ${target}`);
          continue;
        }
        const hash = decodeURIComponent(u.hash.replace(/^#/, ""));
        if (hash && target.endsWith(".html") && !facts.get(target)?.ids.includes(hash)) problems.push(`${name}: link to a missing anchor: ${target}#${hash}`);
      }
    }
    const images = [...facts.values()].reduce((n, f) => n + f.images.length, 0);
    const links = [...facts.values()].reduce((n, f) => n + f.links.length, 0);
    console.log(`Site check: ${facts.size} page(s) opened in Chromium, ${images} image(s) and ${links} link(s) checked; ` +
      `${external.size} link(s) to other sites not followed (offline)${problems.length ? "" : ": nothing broken"}.`);
  } finally {
    await browser.close();
    await server.close();
  }
  return problems;
}
