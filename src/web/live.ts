/**
 * The live viewer's page (`tagvisor run --web`, docs/web.md): the viewer UI on a WebSocket to the
 * VM running in that tagvisor process (`/ws` on the server that served this page). No guest runs
 * here, and nothing here can load one.
 */
import { createViewer } from './viewer.js';
import { SocketConnection } from './socket-connection.js';
import { h } from './ui/dom.js';

const url = new URL('ws', location.href);
url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
url.search = '';
url.hash = '';
// With --auth-token-file the page is opened as /?token=...: the WebSocket presents it (docs/web.md).
const token = new URLSearchParams(location.search).get('token');
if (token !== null) url.searchParams.set('token', token);
const connection = new SocketConnection(url);
const viewer = createViewer(connection);
const badge = h('span', { class: 'live-badge', text: 'connecting…' });
viewer.toolbar.prepend(badge);
connection.on('loaded', (m) => {
  document.title = `${m.name} — Tagvisor live viewer`;
  badge.textContent = m.name;
});
connection.on('session', (m) => {
  badge.textContent = `${viewer.element.dataset.guest ?? 'guest'} · ${m.control ? 'control enabled' : 'read-only'}`;
  badge.dataset.control = m.control ? 'on' : 'off';
});
connection.on('disconnected', () => (badge.dataset.connection = 'closed'));
document.querySelector('#app')!.replaceChildren(viewer.element);

// The browser tests and benchmarks reach the parts through this.
(globalThis as { tagvisor?: unknown }).tagvisor = { viewer, connection };
