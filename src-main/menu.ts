/**
 * The application menu, with accelerators. Items send menu commands to the focused window's
 * renderer, which runs them like its keyboard shortcuts (one command table, components/shortcuts.tsx).
 */
import { BrowserWindow, Menu, type MenuItemConstructorOptions } from 'electron';
import { PUSH, type MenuCommand } from './ipc-contract';

function send(cmd: MenuCommand): void {
  const w = BrowserWindow.getFocusedWindow() ?? BrowserWindow.getAllWindows()[0];
  w?.webContents.send(PUSH.menuCommand, cmd);
}

/** Builds and installs the menu. */
export function installMenu(isMac: boolean): void {
  const item = (label: string, cmd: MenuCommand, accelerator?: string): MenuItemConstructorOptions => ({ label, accelerator, click: () => send(cmd) });
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    { label: '&File', submenu: [item('&New VM…', 'new-vm', 'CmdOrCtrl+N'), item('Build GRUB &ISO…', 'build-iso', 'CmdOrCtrl+Shift+I'), { type: 'separator' }, isMac ? { role: 'close' } : { role: 'quit' }] },
    { label: '&Edit', submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }] },
    {
      label: '&View',
      submenu: [item('&Virtual machines', 'view-manager', 'CmdOrCtrl+1'), item('&Host', 'view-host', 'CmdOrCtrl+2'), { type: 'separator' }, { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { role: 'togglefullscreen' }],
    },
    {
      label: 'V&M',
      submenu: [
        item('&Run', 'vm-run', 'CmdOrCtrl+R'),
        item('&Pause / Resume', 'vm-pause', 'CmdOrCtrl+P'),
        item('&Shut down', 'vm-shutdown'),
        item('Re&boot', 'vm-reboot'),
        item('&Force off…', 'vm-force-off', 'CmdOrCtrl+Shift+K'),
        { type: 'separator' },
        item('&Console', 'vm-console', 'CmdOrCtrl+Shift+C'),
        item('&Details', 'vm-details', 'CmdOrCtrl+D'),
        { type: 'separator' },
        item('De&lete…', 'vm-delete'),
      ],
    },
    { label: '&Help', submenu: [item('&Keyboard shortcuts', 'shortcuts', 'F1'), item('&About Domus', 'about')] },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
