/** DICOM UIDs from random UUIDs (PS3.5 B.2: the 2.25 root followed by the UUID as one decimal number). */
import { randomUUID } from 'node:crypto';

export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replaceAll('-', '')}`).toString(10)}`;
}
