/**
 * A real Orthanc with its DICOMweb plugin for tests and `cvm bench --only pacs`: a free loopback port, a temporary
 * storage folder, a
 * generated configuration; `stop()` kills it by its PID and removes the folder. Skips (returns null from
 * `orthancAvailable`) with a message when Orthanc or the plugin is not installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ORTHANC = '/usr/sbin/Orthanc';
const PLUGIN_DIRS = ['/usr/share/orthanc/plugins', '/usr/lib/orthanc/plugins'];

function pluginPath(): string | null {
  for (const dir of PLUGIN_DIRS) {
    const file = path.join(dir, 'libOrthancDicomWeb.so');
    if (existsSync(file)) return file;
  }
  return null;
}

export const ORTHANC_SKIP =
  existsSync(ORTHANC) && pluginPath()
    ? ''
    : `skipped: Orthanc (${ORTHANC}) or its DICOMweb plugin is not installed (apt-get install orthanc orthanc-dicomweb)`;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export interface OrthancOptions {
  /** Basic-auth users; authentication is off when absent. */
  readonly users?: Readonly<Record<string, string>>;
  /** Reuse a storage folder (to restart the same server). */
  readonly storageDir?: string;
  readonly port?: number;
}

export interface Orthanc {
  readonly port: number;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** The DICOMweb root: http://127.0.0.1:<port>/dicom-web */
  readonly dicomWeb: string;
  readonly storageDir: string;
  /** POST /instances with basic auth when configured. */
  upload(bytes: Uint8Array): Promise<{ ID: string; ParentStudy: string }>;
  /** GET on the REST API (JSON). */
  rest<T>(pathname: string): Promise<T>;
  /** Kills the process; the storage stays (for restart) unless `removeStorage`. */
  stop(options?: { removeStorage?: boolean }): Promise<void>;
  readonly process: ChildProcess;
}

export async function startOrthanc(options: OrthancOptions = {}): Promise<Orthanc> {
  const plugin = pluginPath();
  if (!plugin) throw new Error(ORTHANC_SKIP);
  const storageDir = options.storageDir ?? mkdtempSync(path.join(os.tmpdir(), 'cvm-orthanc-'));
  const port = options.port ?? (await freePort());
  const dicomPort = await freePort();
  const config = {
    Name: 'CVMTEST',
    StorageDirectory: path.join(storageDir, 'db'),
    IndexDirectory: path.join(storageDir, 'db'),
    HttpPort: port,
    DicomPort: dicomPort,
    DicomAet: 'CVMTEST',
    RemoteAccessAllowed: false,
    AuthenticationEnabled: options.users !== undefined,
    RegisteredUsers: options.users ?? {},
    HttpBindAddress: '127.0.0.1',
    Plugins: [plugin],
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false, StudiesMetadata: 'Full', SeriesMetadata: 'Full' },
    LimitFindResults: 0,
    LimitFindInstances: 0,
    StableAge: 1,
    SaveJobs: false,
    ConcurrentJobs: 1,
    HttpThreadsCount: 10,
  };
  const configFile = path.join(storageDir, 'orthanc.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const child = spawn(ORTHANC, [configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const stderr = child.stderr;
  if (!stderr) throw new Error('Orthanc was spawned without a stderr pipe');
  stderr.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const authHeader: Record<string, string> = {};
  const first = options.users ? Object.entries(options.users)[0] : undefined;
  if (first) authHeader.authorization = `Basic ${Buffer.from(`${first[0]}:${first[1]}`).toString('base64')}`;

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Orthanc exited with ${child.exitCode}: ${log}`);
    try {
      const res = await fetch(`${url}/system`, { headers: authHeader });
      if (res.ok) {
        await res.arrayBuffer();
        break;
      }
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Orthanc did not answer on ${url} within 30 s: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }

  const orthanc: Orthanc = {
    port,
    url,
    dicomWeb: `${url}/dicom-web`,
    storageDir,
    process: child,
    async upload(bytes) {
      for (let attempt = 1; ; attempt++) {
        const res = await fetch(`${url}/instances`, {
          method: 'POST',
          body: new Blob([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]),
          headers: { ...authHeader, 'content-type': 'application/dicom' },
        });
        if (res.ok) return (await res.json()) as { ID: string; ParentStudy: string };
        const text = await res.text();
        // Orthanc 1.10 races when two parallel uploads create the same storage subdirectory and answers
        // "FileStorageCannotWrite" (status 2001) to the loser; the directory exists by then, so a retry stores it.
        if (attempt < 3 && res.status === 500 && /"OrthancStatus"\s*:\s*2001\b/.test(text)) continue;
        throw new Error(`Orthanc refused the upload: ${res.status} ${text}`);
      }
    },
    async rest<T>(pathname: string) {
      const res = await fetch(`${url}${pathname}`, { headers: authHeader });
      if (!res.ok) throw new Error(`GET ${pathname}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
    async stop(stopOptions = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGKILL');
        await exited;
      }
      if (stopOptions.removeStorage) rmSync(storageDir, { recursive: true, force: true });
    },
  };
  return orthanc;
}
