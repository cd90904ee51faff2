/** Short import path for notebooks: `import { imageAugmenter } from "./lib/augment"` (tslab does not resolve folders). */
export * from "./augment/index";
