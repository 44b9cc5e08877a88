import type { MachineConnection } from './connection.js';
import type { MachineStatus } from './protocol.js';
import { Controls } from './ui/controls.js';
import { h } from './ui/dom.js';
import { FaultList } from './ui/fault-list.js';
import { Notice } from './ui/notice.js';
import { RegisterView } from './ui/register-view.js';
import { TagMap } from './ui/tag-map.js';
import { Terminal } from './ui/terminal.js';
import { ActivityPanel } from './ui/activity-panel.js';
import { MigrationPanel } from './ui/migration-panel.js';

/** The viewer's parts, for the page that embeds them (and the browser tests). */
export interface Viewer {
  readonly element: HTMLElement;
  /** The toolbar: a page adds its own tools (the playground's guest menu) in front. */
  readonly toolbar: HTMLElement;
  readonly notice: Notice;
  readonly terminal: Terminal;
  readonly tagMap: TagMap;
  readonly faults: FaultList;
  readonly registers: RegisterView;
  readonly controls: Controls;
  /** Live viewer only (shown once their messages arrive): memory activity and migration progress. */
  readonly activity: ActivityPanel;
  readonly migration: MigrationPanel;
  /** The machine's last reported status (null before the first). */
  status(): MachineStatus | null;
  /** Stops listening to the connection. */
  dispose(): void;
}

/**
 * Builds the viewer UI (terminal, tag map, fault list, register view, controls) on any machine
 * connection: the playground's worker, or the live viewer's WebSocket (socket-connection.ts).
 */
export function createViewer(connection: MachineConnection): Viewer {
  const notice = new Notice();
  const terminal = new Terminal();
  const tagMap = new TagMap({ onGranuleWindow: (firstPage, pageCount) => connection.send({ type: 'granule-window', firstPage, pageCount }) });
  const faults = new FaultList((fault) => {
    if (fault.pa === null) notice.show('info', `${fault.addr} was not mapped when it faulted: no granule to show`);
    else tagMap.centreOn(fault.pa);
  });
  const registers = new RegisterView();
  const controls = new Controls((command) => connection.send(command));
  const activity = new ActivityPanel();
  const migration = new MigrationPanel();
  const toolbar = h('div', { class: 'toolbar' }, controls.element);
  const element = h(
    'div',
    { class: 'viewer' },
    toolbar,
    notice.element,
    h(
      'div',
      { class: 'columns' },
      h('div', { class: 'column wide' }, tagMap.element, faults.element),
      h('div', { class: 'column' }, terminal.element, registers.element, activity.element, migration.element),
    ),
  );
  let last: MachineStatus | null = null;
  const offs = [
    connection.on('loaded', (m) => {
      notice.clear();
      terminal.clear();
      faults.clear();
      registers.clear();
      activity.clear();
      migration.clear();
      tagMap.reset(m.ramBase, m.pages);
      element.dataset.guest = m.name;
    }),
    connection.on('status', (status) => {
      last = status;
      controls.update(status);
      registers.setRunning(status.state === 'running');
      element.dataset.state = status.state;
    }),
    connection.on('output', (m) => terminal.write(m.text, m.stream)),
    connection.on('reset', () => terminal.write('\n── reset ──\n', 'console')),
    connection.on('faults', (m) => faults.add(m.faults, m.suppressed)),
    connection.on('cpu', (m) => registers.show(m.cpu)),
    connection.on('page-tags', (m) => tagMap.applyPages(m)),
    connection.on('granule-tags', (m) => tagMap.applyGranules(m)),
    connection.on('error', (m) => notice.show('error', m.message)),
    connection.on('warning', (m) => notice.show('warning', m.message)),
    // Live viewer (`tagvisor run --web`): what the connection may do, activity, migration, replies.
    connection.on('session', (m) => {
      element.dataset.control = m.control ? 'on' : 'off';
      controls.setAllowed(m.control, 'read-only viewer: start tagvisor with --web-control to pause, step or reset from here');
    }),
    connection.on('activity', (m) => activity.add(m)),
    connection.on('migration', (m) => migration.show(m.progress)),
    connection.on('reply', (m) => {
      if (!m.ok) notice.show('error', `${m.command}: ${m.error.desc}`);
    }),
    connection.on('disconnected', (m) => {
      element.dataset.connection = 'closed';
      controls.setAllowed(false, 'disconnected');
      registers.setRunning(false);
      notice.show('info', `disconnected: ${m.reason}`);
    }),
  ];
  return {
    element, toolbar, notice, terminal, tagMap, faults, registers, controls, activity, migration,
    status: () => last,
    dispose: () => offs.forEach((off) => off()),
  };
}
