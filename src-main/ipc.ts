/**
 * The main process's IPC handlers. Every handler first checks who is asking (a frame of one of our
 * windows showing app://domus/) and validates its payload with ipc-contract.ts; anything else is
 * refused. Engine traffic never passes here (it goes over the MessagePort).
 */
import { readFile } from 'node:fs/promises';
import { app, BrowserWindow, dialog, ipcMain, type IpcMainInvokeEvent } from 'electron';
import { writeFileAtomic } from '../src-engine/node/service/atomic-file';
import { isAppUrl } from './app-protocol';
import type { EngineProcess } from './engine-process';
import { checkChooseFile, checkDomainName, checkSaveText, IPC, type AppInfo } from './ipc-contract';

/** Throws unless the sender is the main frame of one of our windows on app://. */
export function checkSender(e: IpcMainInvokeEvent): BrowserWindow {
  const frame = e.senderFrame;
  const win = BrowserWindow.fromWebContents(e.sender);
  if (!win || !frame || frame !== e.sender.mainFrame || !isAppUrl(frame.url)) throw new Error('IPC refused: the request did not come from a Domus window.');
  return win;
}

/** Registers every handler. */
export function registerIpc(engine: EngineProcess, openConsole: (domain: string) => void): void {
  ipcMain.handle(IPC.enginePort, (e) => {
    const win = checkSender(e);
    engine.connect(e.sender, `window ${win.id}`);
  });
  ipcMain.handle(IPC.restartEngine, async (e) => {
    checkSender(e);
    await engine.restart();
  });
  ipcMain.handle(IPC.engineStatus, (e) => {
    checkSender(e);
    return engine.state;
  });
  ipcMain.handle(IPC.openConsoleWindow, (e, domain: unknown) => {
    checkSender(e);
    openConsole(checkDomainName(domain));
  });
  ipcMain.handle(IPC.chooseFile, async (e, req: unknown) => {
    const win = checkSender(e);
    const r = checkChooseFile(req);
    if (r.mode === 'open') {
      const res = await dialog.showOpenDialog(win, { title: r.title, defaultPath: r.defaultPath, filters: r.filters, properties: ['openFile'] });
      return res.canceled ? undefined : res.filePaths[0];
    }
    const res = await dialog.showSaveDialog(win, { title: r.title, defaultPath: r.defaultPath, filters: r.filters });
    return res.canceled ? undefined : res.filePath;
  });
  ipcMain.handle(IPC.saveText, async (e, req: unknown) => {
    const win = checkSender(e);
    const r = checkSaveText(req);
    const res = await dialog.showSaveDialog(win, { title: 'Save', defaultPath: r.defaultName });
    if (res.canceled || !res.filePath) return false;
    writeFileAtomic(res.filePath, r.text);
    return true;
  });
  ipcMain.handle(IPC.appInfo, async (e): Promise<AppInfo> => {
    checkSender(e);
    const pkg = JSON.parse(await readFile(`${app.getAppPath()}/package.json`, 'utf8')) as { version?: string };
    return { version: pkg.version ?? app.getVersion(), platform: process.platform, electron: process.versions.electron ?? '', userData: app.getPath('userData') };
  });
}
