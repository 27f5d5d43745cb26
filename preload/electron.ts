/**
 * Electron preload (sandboxed): exposes the typed API from core/api through contextBridge. The renderer
 * gets task-shaped functions only, never ipcRenderer.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { channelOf, createApiClient, EVENT_CHANNEL, type MethodName } from '../core/api/index';

const api = createApiClient({
  invoke: (method, request) => ipcRenderer.invoke(channelOf(method as MethodName), request),
  subscribe: (handler) => {
    const listener = (_event: IpcRendererEvent, name: string, payload: unknown): void => handler(name, payload);
    ipcRenderer.on(EVENT_CHANNEL, listener);
    return () => ipcRenderer.removeListener(EVENT_CHANNEL, listener);
  },
});

contextBridge.exposeInMainWorld('cvm', api);
