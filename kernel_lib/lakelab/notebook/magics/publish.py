"""%publish NAME --as TABLE [--kind table|model|report|dashboard] [--inputs a.b,c.d] [--description TEXT] [--owner WHO]
[--tags a,b]"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from lakelab.catalog.metadata import KINDS
from lakelab.notebook.magics import UsageError, user_errors
from lakelab.write.publish import MODES

if TYPE_CHECKING:
    from lakelab.datasets.dataset import Dataset


def _unquote(text: str | None) -> str | None:
    """IPython's argument splitter keeps the quotes around "two words"; drop them."""
    if text and len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return shlex.split(text)[0]
    return text


@magics_class
class PublishMagics(Magics):
    @magic_arguments()
    @argument(
        "name",
        help="a kernel variable (DataFrame, Arrow table, query result), a file path, or an existing dataset's name",
    )
    @argument("--as", dest="target", required=True, metavar="TABLE", help="the dataset to publish, namespace.table")
    @argument(
        "--kind",
        choices=KINDS,
        default="table",
        help="table (default); model (a picklable object, file or directory) or report (notebook path, "
        "figure, DataFrame, .html file) or dashboard (a notebook path: run in a fresh kernel, pinned to the data it "
        "read): each publish adds a version",
    )
    @argument("--inputs", metavar="a.b,c.d", help="datasets it was made from (recorded as lineage)")
    @argument("--description", help="what the dataset holds (quote it)")
    @argument("--owner", help="who answers questions about it (default: you)")
    @argument("--tags", metavar="a,b", help="comma-separated tags")
    @argument("--mode", choices=MODES, default="overwrite", help="overwrite (default), append or create")
    @line_magic
    @user_errors
    def publish(self, line: str) -> Dataset | None:
        """Publish a result as a discoverable, versioned dataset (one commit, with lineage)."""
        if not line.strip():
            raise UsageError("usage: %publish NAME --as namespace.table [--description TEXT] [--tags a,b]")
        try:
            args = parse_argstring(self.publish, line)
        except (IPythonUsageError, ValueError) as e:  # unknown/malformed options, an unclosed quote: one line
            raise UsageError(f"%publish: {e}", hint="see %publish? for the options") from None
        from lakelab.notebook.warmup import lakehouse
        from lakelab.write.publish import publish

        inputs = [i.strip() for i in (_unquote(args.inputs) or "").split(",") if i.strip()] or None
        # publish() directly: it takes `inputs` (Lakehouse.publish will forward it too)
        return publish(
            lakehouse(),
            self._resolve(args.name),
            args.target,
            kind=args.kind,
            description=_unquote(args.description),
            owner=_unquote(args.owner),
            tags=_unquote(args.tags),
            mode=args.mode,
            inputs=inputs,
        )

    def _resolve(self, text: str) -> Any:
        """The kernel variable NAME names, else NAME itself (a path or a dataset name)."""
        text = _unquote(text.strip()) or ""
        ns = self.shell.user_ns if self.shell is not None else {}
        if text.isidentifier():
            if text in ns:
                return ns[text]
            raise UsageError(
                f"{text!r} is not a variable in this kernel",
                hint="publish a DataFrame/Arrow/result variable, a file path or a dataset name",
            )
        return text
