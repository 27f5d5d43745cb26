/**
 * ONNX Runtime's own telemetry, switched off. Since 1.29 the runtime sends telemetry on Linux and macOS too: a
 * persistent device identifier and an offline event cache under ~/.cache/Microsoft/DeveloperTools/.onnxruntime,
 * uploaded over HTTPS whenever the machine has a network (process, session, model and execution-provider events).
 * The workstation sends nothing anywhere, so ORT_DISABLE_TELEMETRY=1 is set here: the runtime reads it once, when
 * its environment starts (the first session or `initOrt` anywhere in the process), and then creates no uploader,
 * no identifier and no cache. A value the caller set is overridden: there is no opt-in.
 *
 * Only the main thread's process.env reaches native code (a worker thread's is its own copy), so every module that
 * loads onnxruntime-node or starts a thread that does imports this one before doing so; test/inference/
 * no-telemetry.test.ts runs the command line's paths and checks that nothing is written.
 * Windows builds report through the operating system's event tracing instead, which the variable does not cover:
 * there it follows the machine's diagnostic-data setting (README, "Privacy").
 */
const ORT_TELEMETRY_VARIABLE = 'ORT_DISABLE_TELEMETRY';

process.env[ORT_TELEMETRY_VARIABLE] = '1';
