/**
 * Icons of the Catalog.
 */
import { LabIcon } from '@jupyterlab/ui-components';

/** A stack of disks: the Catalog panel's tab and its databases. */
export const catalogIcon = new LabIcon({
  name: 'jupyterlab-smallfry:catalog',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">' +
    '<g class="jp-icon3" fill="#616161">' +
    '<path d="M12 2C7.6 2 4 3.3 4 5v14c0 1.7 3.6 3 8 3s8-1.3 8-3V5c0-1.7-3.6-3-8-3zm0 2c3.9 0 6 1 6 1s-2.1 1-6 1-6-1-6-1 2.1-1 6-1zM6 7.4C7.5 8 9.6 8.3 12 8.3s4.5-.3 6-.9V10c0 .4-2.2 1.5-6 1.5S6 10.4 6 10zm0 5c1.5.6 3.6.9 6 .9s4.5-.3 6-.9V15c0 .4-2.2 1.5-6 1.5S6 15.4 6 15zM12 20c-3.8 0-6-1.1-6-1.5v-1.1c1.5.6 3.6.9 6 .9s4.5-.3 6-.9v1.1c0 .4-2.2 1.5-6 1.5z"/>' +
    '</g></svg>'
});
