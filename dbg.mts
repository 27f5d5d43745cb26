import { readFileSync } from 'node:fs';
import { decodeImageFile } from './main/dicom/index';
const b = readFileSync('/work/shared/data/dicom/pydicom/no_meta.dcm');
try { await decodeImageFile('x', b.subarray(1)); console.log('ok'); } catch (e) { console.log((e as Error).message); }
const c = Uint8Array.from(b.subarray(1));
try { await decodeImageFile('x', c); console.log('ok copy'); } catch (e) { console.log((e as Error).message); }
