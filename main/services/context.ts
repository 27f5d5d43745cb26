/** What every service needs from the process that hosts it (Electron main, browser mode or the CLI). */
export interface ServiceContext {
  readonly mode: 'electron' | 'web' | 'cli';
  /** The user's data folder: database, copies of imported images, user models. */
  readonly dataDir: string;
  readonly appVersion: string;
  /** Sends an event to the connected renderer(s). */
  readonly emit: (name: string, payload: unknown) => void;
}
