/** The inference engine: model registry, warm ONNX sessions in a worker, the two-stage pipeline. */
export * from './analyze';
export * from './batch';
export * from './engine';
export * from './errors';
export * from './registry';
export type { ProviderName, ProviderReport } from './providers';
export { NO_COLUMN_HINT, type PipelineImage } from './pipeline';
export * from './whole-image';
