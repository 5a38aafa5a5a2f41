/**
 * `jupyterlab-smallfry:compare`: the "Compare Two Runs" command and its
 * palette entry. The comparison itself (and nbdime) loads on first use.
 */
import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { ISmallFry } from '../tokens';
import { addCompareCommand } from './commands';
import { COMPARE_RUNS } from './index';

export const comparePlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyterlab-smallfry:compare',
  description:
    'Compare two runs of a notebook job (or a run and its notebook): parameters, run.json and nbdime’s notebook diff.',
  autoStart: true,
  requires: [ISmallFry],
  optional: [ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    smallfry: ISmallFry,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyterlab_smallfry');
    addCompareCommand(app, { serverSettings: smallfry.serverSettings, trans });
    palette?.addItem({
      command: COMPARE_RUNS,
      category: trans.__('Small Fry')
    });
  }
};
