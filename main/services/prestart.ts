/**
 * What a command can start before its own code loads: `cvm analyze` and `cvm eval` start the inference
 * worker first (main/inference/prestart.ts), so that ONNX Runtime loads beside the command's modules and the
 * model check. Imports nothing else: the command line's entry loads it ahead of the command's chunk.
 */
export { prestartInferenceWorker as prestartLandmarkAnalysis } from '../inference/prestart';
