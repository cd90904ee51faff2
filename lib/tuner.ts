/** Short import path for notebooks: `import { GridSearch } from "./lib/tuner"` (tslab does not resolve folders). */
export * from "./tuner/index";
