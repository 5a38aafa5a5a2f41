"""The papermill engine of Small Fry runs: papermill's own, plus progress and lineage.

Registered as papermill engine ``smallfry`` (``pm.execute_notebook(…, engine_name="smallfry",
progress=…, kernel_setup=…)``). It is papermill's nbclient engine with two additions:

- ``progress`` (a :class:`~.progress.Progress`): told when each code cell starts (nbclient's
  ``on_cell_start`` hook) and of every output as it arrives (``process_message``);
- ``kernel_setup`` (``callable(language) -> code or None``): code run once in the kernel
  before the first cell, silently (``silent=True, store_history=False``: no output, no
  execution count, nothing in ``In``/``Out``), so the output notebook is exactly papermill's.
  The runner installs its lineage hooks this way. It learns whether it ran from
  :attr:`SmallFryClient.setup_done`.
"""

from __future__ import annotations

import logging

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.utils import merge_kwargs, remove_args

log = logging.getLogger(__name__)

ENGINE_NAME = "smallfry"


class SmallFryClient(PapermillNotebookClient):
    """papermill's notebook client, reporting progress and running the setup code first."""

    def __init__(self, nb_man, *, progress=None, kernel_setup=None, setup_result=None, **kw):
        super().__init__(nb_man, **kw)
        self.smallfry_progress = progress
        self.smallfry_setup = kernel_setup
        #: What the setup found: ``{"language": …, "ran": bool}`` (the caller's dict).
        self.setup_result = setup_result if setup_result is not None else {}
        self._code_numbers: dict[int, int] = {}
        self.on_cell_start = self._cell_started

    def papermill_execute_cells(self):
        numbers = [i for i, c in enumerate(self.nb.cells) if c.get("cell_type") == "code"]
        self._code_numbers = {index: n for n, index in enumerate(numbers, start=1)}
        self._run_setup()
        if self.smallfry_progress is not None:
            self.smallfry_progress.start(len(numbers))
        return super().papermill_execute_cells()

    def _run_setup(self) -> None:
        if self.smallfry_setup is None:
            return
        self.setup_result["ran"] = False
        try:
            info = self.wait_for_reply(self.kc.kernel_info())
            language = info["content"]["language_info"]["name"]
            self.setup_result["language"] = language
            code = self.smallfry_setup(language)
            if not code:
                return
            reply = self.wait_for_reply(self.kc.execute(code, silent=True, store_history=False))
            ok = reply is not None and reply["content"].get("status") == "ok"
            self.setup_result["ran"] = ok
            if not ok:
                content = (reply or {}).get("content", {})
                log.warning(
                    "Small Fry: the kernel setup failed (%s: %s)",
                    content.get("ename"),
                    content.get("evalue"),
                )
        except Exception as err:  # noqa: BLE001 - the notebook runs without the setup
            log.warning("Small Fry: the kernel setup could not run: %s", err)

    async def _cell_started(self, cell, cell_index, **_):
        number = self._code_numbers.get(cell_index)
        if self.smallfry_progress is not None and number is not None:
            self.smallfry_progress.cell_started(number, cell.get("source", ""))

    def process_message(self, *args, **kwargs):
        output = super().process_message(*args, **kwargs)
        if output is not None and self.smallfry_progress is not None:
            self.smallfry_progress.output(output)
        return output


class SmallFryEngine(NBClientEngine):
    """papermill's nbclient engine with :class:`SmallFryClient`."""

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man,
        kernel_name,
        log_output=False,
        stdout_file=None,
        stderr_file=None,
        start_timeout=60,
        execution_timeout=None,
        progress=None,
        kernel_setup=None,
        setup_result=None,
        **kwargs,
    ):
        # The same argument handling as papermill's NBClientEngine, for the same client.
        kwargs = remove_args(["input_path"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(
            safe_kwargs,
            timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log=logging.getLogger("papermill"),
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        return SmallFryClient(
            nb_man,
            progress=progress,
            kernel_setup=kernel_setup,
            setup_result=setup_result,
            **final_kwargs,
        ).execute()


papermill_engines.register(ENGINE_NAME, SmallFryEngine)
