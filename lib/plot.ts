/**
 * Charts for the lessons, drawn with plotly in the notebook. Every helper shows its chart (when run in a
 * notebook) and returns the plotly figure, so you can tweak it and show it again with showFigure.
 *
 *   import { plotHistory, lineChart, imageGrid, showImages, showFigure } from "./lib/plot";
 *   import { confusionHeatmap, predictionGrid } from "./lib/plot";   // evaluating a classifier (see lib/evaluate)
 */
export type { Figure, Trace, Layout } from "./plots/figure";
export { showFigure, figureSummary } from "./plots/show";
export type { ShowOptions } from "./plots/show";
export { inNotebook } from "./plots/display";
export { plotHistory, plotHistories, lineChart, PALETTE } from "./plots/charts";
export type { TrainingHistory, HistoryOptions, HistoriesOptions, LineChartOptions } from "./plots/charts";
export { imageGrid, showImages, featureMaps } from "./plots/images";
export type { ImageLike, TensorLike, TitledImage, ImageGridOptions, ShowImagesOptions, FeatureMapOptions } from "./plots/images";
export { confusionHeatmap } from "./plots/heatmap";
export type { ConfusionHeatmapOptions } from "./plots/heatmap";
export { predictionGrid } from "./plots/predictions";
export type { PredictionGridOptions, PixelSplit } from "./plots/predictions";
