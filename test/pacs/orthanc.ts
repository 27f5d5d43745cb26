/**
 * The shared test helper for a real Orthanc with its DICOMweb plugin (free loopback port, temporary storage,
 * generated configuration, stopped by PID). The launcher lives in main/cli/bench/orthanc.ts because
 * `cvm bench --only pacs` starts the same server; tests use it from here.
 */
export { ORTHANC_SKIP, freePort, startOrthanc, type Orthanc, type OrthancOptions } from '../../main/cli/bench/orthanc';
