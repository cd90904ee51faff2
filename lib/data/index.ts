/**
 * Datasets and pretrained weights for the lessons: one module per source, re-exported here for notebooks
 * (`import { loadCifar10 } from "./lib/data"`). The plumbing under them (cache.ts, download.ts, archive.ts) is not
 * re-exported: scripts and tests import it from its own module.
 */
export * from "./images";
export * from "./npy";
export * from "./imageFolder";
export * from "./cifar10";
export * from "./fashionMnist";
export * from "./dollarStreet";
export * from "./dollarStreetGenerator";
export * from "./mobilenet";
