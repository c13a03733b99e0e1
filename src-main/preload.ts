/**
 * The preload: the only bridge between a sandboxed Domus page and the main process. It exposes
 * one object, window.domusHost (ipc-contract.ts DomusHostBridge), whose functions invoke fixed
 * channels; it never exposes ipcRenderer. The engine port main sends is passed to the page with
 * window.postMessage (a MessagePort cannot cross contextBridge), and what main pushes is checked
 * before the page sees it.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { ENGINE_PORT_MESSAGE, IPC, isEngineProcessState, isMenuCommand, PUSH, type DomusHostBridge, type EngineProcessState, type MenuCommand } from './ipc-contract';

ipcRenderer.on(PUSH.enginePort, (e: IpcRendererEvent) => {
  const origin = window.location.origin === 'null' ? '*' : window.location.origin;
  window.postMessage({ type: ENGINE_PORT_MESSAGE }, origin, e.ports);
});

function subscribe<T>(channel: string, check: (v: unknown) => v is T, cb: (v: T) => void): () => void {
  const l = (_e: IpcRendererEvent, v: unknown) => {
    if (check(v)) cb(v);
  };
  ipcRenderer.on(channel, l);
  return () => ipcRenderer.removeListener(channel, l);
}

const bridge: DomusHostBridge = {
  kind: 'electron',
  requestEnginePort: () => ipcRenderer.invoke(IPC.enginePort),
  restartEngine: () => ipcRenderer.invoke(IPC.restartEngine),
  engineStatus: () => ipcRenderer.invoke(IPC.engineStatus),
  onEngineState: (cb: (s: EngineProcessState) => void) => subscribe(PUSH.engineState, isEngineProcessState, cb),
  onMenuCommand: (cb: (c: MenuCommand) => void) => subscribe(PUSH.menuCommand, isMenuCommand, cb),
  openConsoleWindow: (domain) => ipcRenderer.invoke(IPC.openConsoleWindow, String(domain)),
  chooseFile: (r) => ipcRenderer.invoke(IPC.chooseFile, r),
  saveText: (r) => ipcRenderer.invoke(IPC.saveText, r),
  appInfo: () => ipcRenderer.invoke(IPC.appInfo),
};

contextBridge.exposeInMainWorld('domusHost', bridge);
