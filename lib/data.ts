/** Short import path for notebooks: `import { loadDollarStreet } from "./lib/data"` (tslab does not resolve folders). */
export * from "./data/index";
