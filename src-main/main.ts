/**
 * The Electron main process (dom0's desk): one instance, the app:// protocol for the renderer,
 * the engine in a utility process (which also serves the CLI socket), the manager window and
 * detached console windows, menus, and IPC with sender checks. Permission requests are denied;
 * no remote content is ever loaded.
 */
import path from 'node:path';
import { app, BrowserWindow, session, webContents } from 'electron';
import { APP_CSP, handleAppScheme, registerAppScheme } from './app-protocol';
import { EngineProcess } from './engine-process';
import { registerIpc } from './ipc';
import { installMenu } from './menu';
import { createManagerWindow, hardenContents, openConsoleWindow, preloadPath } from './windows';

registerAppScheme();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  const preload = preloadPath(__dirname);
  const rendererDir = path.join(app.getAppPath(), 'dist', 'renderer');
  const engine = new EngineProcess(() => webContents.getAllWebContents());
  let manager: BrowserWindow | undefined;

  app.on('second-instance', () => {
    if (!manager || manager.isDestroyed()) return;
    if (manager.isMinimized()) manager.restore();
    manager.focus();
  });

  app.on('web-contents-created', (_e, wc) => hardenContents(wc));

  app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_wc, _permission, done) => done(false));
    session.defaultSession.setPermissionCheckHandler(() => false);
    session.defaultSession.webRequest.onHeadersReceived((details, done) => done({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [APP_CSP] } }));
    handleAppScheme(rendererDir);
    installMenu(process.platform === 'darwin');
    engine.start();
    registerIpc(engine, (domain) => openConsoleWindow(preload, domain));
    manager = createManagerWindow(preload, app.getPath('userData'));
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) manager = createManagerWindow(preload, app.getPath('userData'));
    });
  }, (e: unknown) => {
    console.error(`Domus could not start: ${e instanceof Error ? e.message : String(e)}`);
    app.exit(1);
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  let quitting = false;
  app.on('before-quit', (e) => {
    if (quitting) return;
    quitting = true;
    e.preventDefault();
    void engine.stop().finally(() => app.quit());
  });
}
