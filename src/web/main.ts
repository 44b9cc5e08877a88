/**
 * The playground page: the viewer on a machine running in a Web Worker, with the bundled guests
 * and drag-and-drop of your own ELF. URL parameters: guest=<name> (default demo), mem=<MiB>
 * (64, 256, 1024), mte=on|off, autorun=0 (do not start the guest on load).
 */
import { createViewer } from './viewer.js';
import { GuestPicker } from './ui/guest-picker.js';
import { WorkerConnection } from './worker-connection.js';

const params = new URLSearchParams(location.search);
const connection = new WorkerConnection(new URL('./worker.js', import.meta.url));
const viewer = createViewer(connection);
const picker = new GuestPicker({
  onLoad: ({ name, bytes, memoryBytes, mte }) => connection.send({ type: 'load', name, bytes, memoryBytes, mte }),
  onError: (message) => viewer.notice.show('error', message),
  memoryMiB: Number(params.get('mem') ?? 256),
  mte: params.get('mte') !== 'off',
});
viewer.toolbar.prepend(picker.element);
document.querySelector('#app')!.replaceChildren(viewer.element);

// The browser tests and benchmarks reach the parts through this.
(globalThis as { tagvisor?: unknown }).tagvisor = { viewer, connection, picker };

picker.loadManifest('guests/index.json', params.get('guest') ?? undefined).then(
  () => (params.get('autorun') === '0' ? undefined : picker.runSelected()),
  (error: Error) => viewer.notice.show('error', `could not load the guest list: ${error.message}`),
);
