/**
 * The renderer's entry: picks the carrier (the Electron preload's MessagePort, else `domus
 * serve`'s WebSocket with the access token from the URL), starts the client and the store, and
 * renders the manager window or, for #/console/NAME, a detached console window.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xterm/xterm/css/xterm.css';
import './styles.css';
import { ENGINE_PORT_MESSAGE } from '../src-main/ipc-contract';
import { EngineClient } from './api/client';
import { hostBridge } from './api/host';
import { messagePortConnector, webSocketConnector, type Connector } from './api/transport';
import { App } from './components/app';
import { ConsoleWindow } from './components/console/console-window';
import { EngineStore } from './state/engine-store';
import { StoreContext } from './state/use-engine';

/** Where the token is kept for reloads of this tab. */
const TOKEN_KEY = 'domus.token';

/** The WebSocket URL of `domus serve` for this page (token from ?token=, kept for reloads). */
export function serveUrl(loc: Location, storage: Storage): string {
  const q = new URLSearchParams(loc.search);
  const token = q.get('token') ?? storage.getItem(TOKEN_KEY) ?? '';
  if (q.has('token')) {
    storage.setItem(TOKEN_KEY, token);
    // Keep the token out of the address bar, history and screenshots.
    q.delete('token');
    history.replaceState(null, '', `${loc.pathname}${q.size ? `?${q}` : ''}${loc.hash}`);
  }
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/api?token=${encodeURIComponent(token)}`;
}

function connector(): { connect: Connector; autoReconnect: boolean } {
  const bridge = hostBridge();
  if (!bridge) return { connect: webSocketConnector(serveUrl(window.location, sessionStorage)), autoReconnect: true };
  const getPort = () =>
    new Promise<MessagePort>((resolve, reject) => {
      const onMsg = (e: MessageEvent) => {
        if (e.source !== window || (e.data as { type?: unknown } | null)?.type !== ENGINE_PORT_MESSAGE || !e.ports[0]) return;
        window.removeEventListener('message', onMsg);
        resolve(e.ports[0]);
      };
      window.addEventListener('message', onMsg);
      bridge.requestEnginePort().catch((err: unknown) => {
        window.removeEventListener('message', onMsg);
        reject(err instanceof Error ? err : new Error(String(err)));
      });
    });
  const onLost = (cb: (reason: string) => void) => bridge.onEngineState((s) => s.state === 'exited' && cb(s.message));
  return { connect: messagePortConnector(getPort, onLost), autoReconnect: false };
}

const { connect, autoReconnect } = connector();
const client = new EngineClient(connect, { autoReconnect });
const store = new EngineStore(client);
// In the app, a restarted engine announces itself; connect to it.
hostBridge()?.onEngineState((s) => {
  if (s.state === 'running') client.connect();
});
client.connect();

const consoleRoute = /^#\/console\/(.+)$/.exec(window.location.hash);
createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <StoreContext.Provider value={store}>{consoleRoute ? <ConsoleWindow name={decodeURIComponent(consoleRoute[1])} /> : <App />}</StoreContext.Provider>
  </StrictMode>,
);
