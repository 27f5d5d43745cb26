/**
 * The parts of the workstation and the arrows between them (docs/architecture.md; ../shared/docs/design.md §2).
 * This is the one place the layering is written down: .dependency-cruiser.cjs generates an allow-list from
 * it, so every import that is not on an arrow below fails `npm test`.
 *
 * Each part: `path` (a folder or file, matched after a leading (^|/) so the deliberately wrong fixtures in
 * test/layers/fixtures obey the same rules), `may` (the parts it may import besides itself), `npm` (the
 * packages it may import) and `node` (whether it may import Node built-ins).
 */
const CORE = [
  'core/api',
  'core/cvm',
  'core/geometry',
  'core/inference',
  'core/landmarks',
  'core/metadata',
  'core/metrics',
  'core/review',
  'core/boneage',
];

const parts = {
  // pure TypeScript: runs in the renderer, main and the CLI
  'core/geometry': { may: ['core/api'], npm: [], node: false },
  'core/landmarks': { may: ['core/geometry'], npm: [], node: false },
  'core/metadata': { may: [], npm: [], node: false },
  'core/cvm': { may: ['core/geometry', 'core/landmarks', 'core/metadata'], npm: [], node: false },
  'core/inference': { may: ['core/geometry', 'core/landmarks'], npm: [], node: false },
  'core/metrics': { may: ['core/cvm', 'core/geometry', 'core/landmarks'], npm: [], node: false },
  'core/review': { may: ['core/geometry', 'core/landmarks', 'core/boneage'], npm: [], node: false },
  'core/boneage': { may: ['core/inference'], npm: [], node: false },
  'core/api': {
    may: ['core/cvm', 'core/geometry', 'core/inference', 'core/landmarks', 'core/metadata', 'core/boneage'],
    npm: [],
    node: false,
  },
  // main process: lower layers know nothing of the use cases above them
  'main/workers': { may: [], npm: [], node: true },
  'main/dicom': { may: [...CORE, 'main/workers'], npm: ['dicom-parser', 'fast-png', 'dcmjs-imaging'], node: true },
  'main/inference': { may: [...CORE, 'main/workers'], npm: ['onnxruntime-node'], node: true },
  'main/store': { may: [...CORE, 'main/workers'], npm: ['better-sqlite3'], node: true },
  // the clinic's PACS (DICOMweb client, SR/SC writer, outbox): over the store, below the services
  'main/pacs': { may: [...CORE, 'main/dicom', 'main/store'], npm: [], node: true },
  'main/services': {
    may: [...CORE, 'main/dicom', 'main/inference', 'main/store', 'main/pacs'],
    npm: ['better-sqlite3'],
    node: true,
  },
  // transports and front ends: thin, over the services
  'main/ipc': { may: ['core/api'], npm: ['electron'], node: false },
  'main/web': { may: ['core/api', 'main/services'], npm: ['ws'], node: true },
  'main/app': { may: [...CORE, 'main/services', 'main/ipc', 'main/pacs'], npm: ['electron'], node: true },
  // The command line is a front end like the app: its commands call the services (one path per use case:
  // analyse, evaluate, import, export, backup and restore are the app's own code, only presented
  // differently). `cvm pacs` drives the DICOMweb client of main/pacs as the PACS service does.
  'main/cli': {
    may: [...CORE, 'main/services', 'main/pacs', 'main/cli/bench'],
    npm: [],
    node: true,
  },
  // `cvm bench` measures the layers themselves (the decoder, the ONNX sessions, SQL at 100,000 studies, the
  // DICOM writer that makes its test files), so it alone reaches below the services. Nested in main/cli: its
  // files also match main/cli's path, so it may import main/cli (the Command and progress helpers) too.
  'main/cli/bench': {
    may: [...CORE, 'main/cli', 'main/services', 'main/pacs', 'main/dicom', 'main/inference', 'main/store'],
    npm: ['onnxruntime-node', 'fast-png'],
    node: true,
  },
  preload: { may: ['core/api'], npm: ['electron'], node: false },
  renderer: {
    may: CORE,
    npm: ['react', 'react-dom', 'konva', 'react-konva', 'pdf-lib', '@pdf-lib/fontkit', 'dejavu-fonts-ttf', 'chart.js'],
    node: false,
  },
};

module.exports = { parts };
