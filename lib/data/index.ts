/** Datasets and pretrained weights for the lessons: one module per source, re-exported here. */
export * from "./images";
export * from "./npy";
export * from "./cache";
export * from "./download";
export * from "./archive";
export * from "./imageFolder";
export * from "./cifar10";
export * from "./fashionMnist";
export * from "./dollarStreet";
export * from "./dollarStreetGenerator";
export * from "./mobilenet";
