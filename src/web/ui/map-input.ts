import type { MapGeometry } from './map-geometry.js';

/** What the tag map lets the mouse do. Units are cells (pages or granules), -1 outside RAM. */
export interface MapInputTarget {
  readonly canvas: HTMLCanvasElement;
  geometry(): MapGeometry;
  scrollTo(topRow: number): void;
  zoomBy(step: number, anchorUnit: number): void;
  hover(unit: number): void;
  select(unit: number): void;
}

/** Wheel scrolls, Ctrl/Cmd+wheel zooms at the pointer, dragging pans, a click selects a cell. */
export function attachMapInput(target: MapInputTarget): void {
  const { canvas } = target;
  const point = (event: MouseEvent) => {
    const rect = canvas.getBoundingClientRect();
    return { x: ((event.clientX - rect.left) * canvas.width) / rect.width, y: ((event.clientY - rect.top) * canvas.height) / rect.height };
  };
  const unitAt = (event: MouseEvent) => {
    const { x, y } = point(event);
    return target.geometry().unitAt(x, y);
  };
  canvas.addEventListener(
    'wheel',
    (event) => {
      event.preventDefault();
      const g = target.geometry();
      if (event.ctrlKey || event.metaKey) target.zoomBy(event.deltaY < 0 ? 1 : -1, unitAt(event));
      else target.scrollTo(g.topRow + Math.sign(event.deltaY) * Math.max(1, Math.round(g.viewRows / 10)));
    },
    { passive: false },
  );
  let drag: { y: number; top: number; moved: boolean } | null = null;
  canvas.addEventListener('pointerdown', (event) => {
    drag = { y: event.clientY, top: target.geometry().topRow, moved: false };
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener('pointermove', (event) => {
    if (drag && Math.abs(event.clientY - drag.y) > 3) {
      drag.moved = true;
      const scale = canvas.height / canvas.getBoundingClientRect().height;
      target.scrollTo(drag.top - ((event.clientY - drag.y) * scale) / target.geometry().zoom.px);
    }
    target.hover(unitAt(event));
  });
  canvas.addEventListener('pointerup', (event) => {
    const moved = drag?.moved ?? false;
    drag = null;
    if (!moved) target.select(unitAt(event));
  });
}
