import { h } from './dom.js';
import { NEVER_COLOUR, TAG_COLOURS, UNTAGGED_COLOUR } from './tag-palette.js';

/** The colour key under the tag map. */
export function mapLegend(): HTMLElement {
  const swatch = (colour: string, label: string, extra = '') => h('span', { class: `swatch ${extra}`, style: `--c: ${colour}`, title: label }, label);
  return h(
    'div',
    { class: 'map-legend' },
    ...TAG_COLOURS.map((colour, tag) => swatch(colour, tag.toString(16), 'tag')),
    swatch(NEVER_COLOUR, 'never tagged'),
    swatch(UNTAGGED_COLOUR, 'no tags'),
    h('span', { class: 'legend-note', text: 'paler page = mixed tags (colour of the most common)' }),
  );
}
