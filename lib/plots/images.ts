/** Image helpers: a titled grid of photos, and side-by-side panels for convolution inputs and outputs. */
import * as jpeg from "jpeg-js";
import { PNG } from "pngjs";
import { Figure, Layout, Trace } from "./figure";
import { showFigure, ShowOptions } from "./show";

/** Anything shaped like a tf.Tensor (we only read it, so lib/plot does not need to load tfjs). */
export interface TensorLike {
  shape: number[];
  dtype: string;
  dataSync(): ArrayLike<number>;
}

/** A nested array image: [height][width] (grayscale) or [height][width][channels]. */
export type NestedImage = number[][] | number[][][];

/** One image: a tensor [h, w], [h, w, c] or [1, h, w, c], or a nested array. */
export type ImageLike = TensorLike | NestedImage;

/** Pixel values of one image, row-major, channels last. */
export interface Pixels {
  height: number;
  width: number;
  channels: number;
  values: Float32Array;
  /** True for integer data (0..255), false for float data. */
  integer: boolean;
}

function isTensorLike(v: unknown): v is TensorLike {
  return !!v && typeof v === "object" && Array.isArray((v as TensorLike).shape) && typeof (v as TensorLike).dataSync === "function";
}

function nestedShape(v: unknown): number[] {
  const shape: number[] = [];
  let cur: unknown = v;
  while (Array.isArray(cur) || ArrayBuffer.isView(cur)) {
    const len = (cur as ArrayLike<unknown>).length;
    shape.push(len);
    if (len === 0) break;
    cur = (cur as ArrayLike<unknown>)[0];
  }
  return shape;
}

function shapeToImage(shape: number[], where: string): [number, number, number] {
  let s = shape;
  if (s.length === 4 && s[0] === 1) s = s.slice(1);
  if (s.length === 2) return [s[0], s[1], 1];
  if (s.length === 3 && [1, 3, 4].includes(s[2])) return [s[0], s[1], s[2]];
  throw new Error(
    `${where}: cannot read an image of shape [${shape.join(", ")}]; expected [height, width], [height, width, channels] ` +
      `with 1, 3 or 4 channels, or [1, height, width, channels]. For a batch use imageGrid(batch) or tensor.unstack().`,
  );
}

/** Reads a tensor or nested array into flat pixels. */
export function toPixels(image: ImageLike, where = "image"): Pixels {
  if (isTensorLike(image)) {
    const [height, width, channels] = shapeToImage(image.shape, where);
    const values = Float32Array.from(image.dataSync());
    return { height, width, channels, values, integer: image.dtype === "int32" || image.dtype === "uint8" };
  }
  if (!Array.isArray(image)) throw new TypeError(`${where}: expected a tf.Tensor or a nested array of numbers, got ${typeof image}.`);
  const [height, width, channels] = shapeToImage(nestedShape(image), where);
  const values = new Float32Array(height * width * channels);
  let k = 0;
  for (let r = 0; r < height; r++) {
    const row = image[r];
    if (!row || row.length !== width) throw new Error(`${where}: row ${r} has ${row?.length ?? 0} pixels, expected ${width} (ragged array).`);
    for (let c = 0; c < width; c++) {
      const px = row[c] as number | number[];
      if (channels === 1 && typeof px === "number") values[k++] = px;
      else if (Array.isArray(px) && px.length === channels) for (const v of px) values[k++] = v;
      else throw new Error(`${where}: pixel (${r}, ${c}) should have ${channels} channel value(s).`);
    }
  }
  return { height, width, channels, values, integer: false };
}

/** Splits a batch tensor [n, h, w, c] (or a single image) into images; arrays are taken as lists of images. */
export function toImageList(images: ImageLike | ImageLike[], where: string): Pixels[] {
  if (isTensorLike(images)) {
    const s = images.shape;
    if (s.length === 4 && s[0] !== 1) {
      const [n, h, w, c] = s;
      shapeToImage([h, w, c], where);
      const all = images.dataSync();
      const size = h * w * c;
      const integer = images.dtype === "int32" || images.dtype === "uint8";
      return Array.from({ length: n }, (_, i) => ({ height: h, width: w, channels: c, integer,
        values: Float32Array.from(Array.prototype.slice.call(all, i * size, (i + 1) * size) as number[]) }));
    }
    return [toPixels(images, where)];
  }
  if (!Array.isArray(images) || images.length === 0) throw new Error(`${where}: no images given; pass a tensor [n, h, w, c] or an array of images.`);
  // Nested arrays: [h][w] or [h][w][c] (c = 1, 3 or 4) is one image; anything else is a list of images.
  const shape = nestedShape(images);
  if (!isTensorLike(images[0]) && (shape.length === 2 || (shape.length === 3 && [1, 3, 4].includes(shape[2]))))
    return [toPixels(images as NestedImage, where)];
  return (images as ImageLike[]).map((im, i) => toPixels(im, `${where} (image ${i})`));
}

/**
 * Whether float pixels are on the 0..255 scale rather than 0..1. Any value above 2 says 0..255; a little over 1
 * is rounding or augmentation noise on 0..1 data (linspace(0, 1) can end at 1.0000001).
 */
export function looksLike255(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] > 2) return true;
  return false;
}

/** RGBA bytes of an image: integer data is 0..255; float data is 0..1 unless it looksLike255. */
function toRgba(p: Pixels): Buffer {
  const scale = p.integer || looksLike255(p.values) ? 1 : 255;
  const out = Buffer.alloc(p.width * p.height * 4);
  for (let i = 0; i < p.width * p.height; i++) {
    const at = (ch: number) => Math.max(0, Math.min(255, Math.round(p.values[i * p.channels + ch] * scale)));
    const g = at(0);
    out[i * 4] = g;
    out[i * 4 + 1] = p.channels >= 3 ? at(1) : g;
    out[i * 4 + 2] = p.channels >= 3 ? at(2) : g;
    out[i * 4 + 3] = p.channels === 4 ? at(3) : 255;
  }
  return out;
}

/** Encodes pixels as a lossless PNG data URI. */
export function pixelsToPngDataUri(p: Pixels): string {
  const png = new PNG({ width: p.width, height: p.height });
  toRgba(p).copy(png.data);
  return "data:image/png;base64," + PNG.sync.write(png).toString("base64");
}

/** Photos this big or bigger go into the notebook as JPEG (several times smaller than PNG); small ones stay PNG. */
export const JPEG_MIN_PIXELS = 64 * 64;

/** Data URI for an image panel: JPEG for large opaque photos, PNG otherwise (exact pixels for small images). */
export function pixelsToDataUri(p: Pixels): string {
  if (p.channels === 4 || p.width * p.height < JPEG_MIN_PIXELS) return pixelsToPngDataUri(p);
  const encoded = jpeg.encode({ data: toRgba(p), width: p.width, height: p.height }, 90);
  return "data:image/jpeg;base64," + Buffer.from(encoded.data).toString("base64");
}

/** Blue for negative, white for zero, red for positive (plotly's own RdBu has a grey middle). */
export const DIVERGING: [number, string][] = [[0, "#2166ac"], [0.25, "#92c5de"], [0.5, "#ffffff"], [0.75, "#f4a582"], [1, "#b2182b"]];

function axisName(i: number): string {
  return i === 0 ? "" : String(i + 1);
}

export interface ImageGridOptions extends ShowOptions {
  /** Images per row. Default 4 (fewer when there are fewer images). */
  cols?: number;
  title?: string;
  /** Displayed size of one image in pixels. Default 120. */
  cellSize?: number;
}

/** Pure layout math for a grid of `n` cells: [x0, x1] and [y0, y1] domains of cell i, rows from the top. */
export function gridDomains(n: number, cols: number, gapX = 0.02, gapY = 0.12): { x: [number, number]; y: [number, number] }[] {
  const rows = Math.ceil(n / cols);
  const w = (1 - gapX * (cols - 1)) / cols;
  const h = (1 - gapY * (rows - 1)) / rows;
  return Array.from({ length: n }, (_, i) => {
    const r = Math.floor(i / cols);
    const c = i % cols;
    const x0 = c * (w + gapX);
    const y1 = 1 - r * (h + gapY);
    return { x: [x0, x0 + w] as [number, number], y: [y1 - h, y1] as [number, number] };
  });
}

/**
 * A grid of photos with a title over each (e.g. class names): imageGrid(batch, labels.map(i => classNames[i])).
 * `images` is a tensor [n, h, w, c] (uint8 0..255 or float 0..1) or an array of images.
 */
export function imageGrid(images: ImageLike | ImageLike[], titles: string[] = [], opts: ImageGridOptions = {}): Figure {
  const list = toImageList(images, "imageGrid");
  if (titles.length && titles.length !== list.length) {
    throw new Error(`imageGrid: ${list.length} images but ${titles.length} titles; give one title per image (or none).`);
  }
  const cols = Math.max(1, Math.min(opts.cols ?? 4, list.length));
  const rows = Math.ceil(list.length / cols);
  const cell = opts.cellSize ?? 120;
  const domains = gridDomains(list.length, cols);
  const data: Trace[] = [];
  const layout: Layout = {
    title: { text: opts.title ?? "" },
    width: Math.max(300, cols * (cell + 10) + 40),
    height: rows * (cell + 30) + (opts.title ? 70 : 30),
    margin: { l: 20, r: 20, t: opts.title ? 60 : 20, b: 10 },
    annotations: [],
  };
  list.forEach((p, i) => {
    const a = axisName(i);
    data.push({ type: "image", source: pixelsToDataUri(p), xaxis: "x" + a, yaxis: "y" + a, name: titles[i] ?? `image ${i}`,
      hovertemplate: `${titles[i] ?? `image ${i}`}<br>x=%{x}, y=%{y}<extra></extra>` });
    layout["xaxis" + a] = { domain: domains[i].x, visible: false, anchor: "y" + a, constrain: "domain" };
    layout["yaxis" + a] = { domain: domains[i].y, visible: false, anchor: "x" + a, autorange: "reversed", scaleanchor: "x" + a, constrain: "domain" };
    if (titles[i] !== undefined) {
      (layout.annotations as object[]).push({ text: titles[i], x: (domains[i].x[0] + domains[i].x[1]) / 2, y: domains[i].y[1],
        xref: "paper", yref: "paper", xanchor: "center", yanchor: "bottom", showarrow: false, font: { size: 12 } });
    }
  });
  return showFigure({ data, layout }, opts);
}

export interface ShowImagesOptions extends ShowOptions {
  title?: string;
  /** Displayed size of one panel in pixels. Default 220. */
  panelSize?: number;
  /** Panels per row. Default: all in one row. */
  cols?: number;
  /** Colour bars beside signed panels. Default true. */
  colorbars?: boolean;
  /** Use the diverging scale (white = 0) for every single-channel panel, not only those with negative values. */
  diverging?: boolean;
}

/** One panel for showImages: the image and its caption. */
export interface TitledImage {
  image: ImageLike;
  title?: string;
}

/**
 * Side-by-side panels, e.g. a convolution's input and output: showImages([{image: x, title: "input"},
 * {image: y, title: "vertical edges"}]). Grayscale images use a black-to-white scale; images with negative values
 * (typical filter outputs) use a diverging blue-white-red scale centred on 0, with a colour bar.
 */
export function showImages(panels: Array<TitledImage | ImageLike>, opts: ShowImagesOptions = {}): Figure {
  if (!Array.isArray(panels) || panels.length === 0) throw new Error("showImages: pass a non-empty array like [{image, title}].");
  const items: TitledImage[] = panels.map((p) => (p && typeof p === "object" && "image" in p ? (p as TitledImage) : { image: p as ImageLike }));
  const n = items.length;
  const size = opts.panelSize ?? 220;
  const cols = Math.max(1, Math.min(opts.cols ?? n, n));
  const rows = Math.ceil(n / cols);
  const pixels = items.map((item, i) => toPixels(item.image, `showImages (panel ${i})`));
  const bars = opts.colorbars !== false && pixels.some((p) => p.channels < 3 && p.values.some((v) => v < 0));
  // Sizes in screen pixels, then as fractions of the plot area: square panels, room for titles and colour bars.
  const colGap = bars ? 80 : 20;
  const rowGap = 30;
  const plotW = cols * size + (cols - 1) * colGap;
  const plotH = rows * size + (rows - 1) * rowGap;
  const domains = gridDomains(n, cols, colGap / plotW, rows > 1 ? rowGap / plotH : 0);
  const margin = { l: 20, r: bars ? 80 : 20, t: opts.title ? 80 : 40, b: 10 };
  const data: Trace[] = [];
  const layout: Layout = {
    title: { text: opts.title ?? "" },
    width: plotW + margin.l + margin.r,
    height: plotH + margin.t + margin.b,
    margin,
    annotations: [],
  };
  items.forEach((item, i) => {
    const p = pixels[i];
    const a = axisName(i);
    const d = domains[i];
    const common = { xaxis: "x" + a, yaxis: "y" + a, name: item.title ?? `panel ${i}` };
    if (p.channels >= 3) {
      data.push({ type: "image", source: pixelsToDataUri(p), ...common });
    } else {
      const z: number[][] = [];
      let min = Infinity;
      let max = -Infinity;
      for (let r = 0; r < p.height; r++) {
        const row = Array.from(p.values.subarray(r * p.width, (r + 1) * p.width));
        for (const v of row) { if (v < min) min = v; if (v > max) max = v; }
        z.push(row);
      }
      const signed = min < 0 || opts.diverging === true;
      const bound = Math.max(Math.abs(min), Math.abs(max)) || 1;
      data.push({
        type: "heatmap", z, ...common,
        colorscale: signed ? DIVERGING : "Greys",
        ...(signed ? { zmid: 0, zmin: -bound, zmax: bound } : { zmin: Math.min(0, min), zmax: looksLike255(p.values) ? Math.max(255, max) : Math.max(1, max) }),
        showscale: signed && opts.colorbars !== false,
        colorbar: { x: d.x[1] + 0.01, xanchor: "left", y: (d.y[0] + d.y[1]) / 2, yanchor: "middle", len: (d.y[1] - d.y[0]) * 0.9, thickness: 10 },
      });
    }
    // A thin frame but no ticks: white pixels must stay distinguishable from the page.
    const frame = { showline: true, mirror: true, linecolor: "#999", showticklabels: false, ticks: "", showgrid: false, zeroline: false };
    layout["xaxis" + a] = { ...frame, domain: d.x, anchor: "y" + a, constrain: "domain" };
    layout["yaxis" + a] = { ...frame, domain: d.y, anchor: "x" + a, autorange: "reversed", scaleanchor: "x" + a, constrain: "domain" };
    if (item.title) {
      (layout.annotations as object[]).push({ text: item.title, x: (d.x[0] + d.x[1]) / 2, y: d.y[1], xref: "paper", yref: "paper",
        xanchor: "center", yanchor: "bottom", showarrow: false });
    }
  });
  return showFigure({ data, layout }, opts);
}

export interface FeatureMapOptions extends ShowOptions {
  title?: string;
  /** Panels per row. Default 8. */
  cols?: number;
  /** Show at most this many channels. Default 32. */
  max?: number;
  /** Displayed size of one map in pixels. Default 90. */
  panelSize?: number;
}

/**
 * Every channel of a convolution layer's output as its own small panel ("what each filter responds to"):
 * featureMaps(model.layers[0].apply(x)). All panels use the diverging scale, so white always means 0. `maps` is [1, h, w, channels] or [h, w, channels].
 */
export function featureMaps(maps: TensorLike, opts: FeatureMapOptions = {}): Figure {
  if (!maps || !Array.isArray(maps.shape) || typeof maps.dataSync !== "function") {
    throw new TypeError("featureMaps: pass a tensor of shape [1, height, width, channels], e.g. a conv layer's output.");
  }
  const shape = maps.shape.length === 4 && maps.shape[0] === 1 ? maps.shape.slice(1) : maps.shape;
  if (shape.length !== 3) {
    throw new Error(`featureMaps: expected [1, height, width, channels] or [height, width, channels], got [${maps.shape.join(", ")}]. ` +
      `For a batch, pick one example first, e.g. output.slice([0, 0, 0, 0], [1, -1, -1, -1]).`);
  }
  const [h, w, c] = shape;
  const values = maps.dataSync();
  const count = Math.min(c, opts.max ?? 32);
  const panels: TitledImage[] = [];
  for (let k = 0; k < count; k++) {
    const image: number[][] = [];
    for (let r = 0; r < h; r++) {
      const row = new Array<number>(w);
      for (let x = 0; x < w; x++) row[x] = values[(r * w + x) * c + k];
      image.push(row);
    }
    panels.push({ image, title: `channel ${k}` });
  }
  const title = opts.title ?? (count < c ? `First ${count} of ${c} channels` : `${c} channels`);
  return showImages(panels, { title, cols: opts.cols ?? 8, panelSize: opts.panelSize ?? 90, colorbars: false, diverging: true, show: opts.show });
}
