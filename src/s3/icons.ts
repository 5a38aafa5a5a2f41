/**
 * Icons of the S3 browser.
 */
import { LabIcon } from '@jupyterlab/ui-components';

import s3Svg from '../../style/icons/s3.svg';

/**
 * The S3 bucket icon of the sidebar tab.
 */
export const s3Icon = new LabIcon({
  name: 'jupyterlab-smallfry:s3',
  svgstr: s3Svg
});
