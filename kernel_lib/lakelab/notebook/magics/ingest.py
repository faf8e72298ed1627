"""%ingest SOURCE --into TABLE [--mode ...] [--key COLS] [--partition-by COLS] [--format ...] [--evolve]"""

from __future__ import annotations

import shlex
from typing import Any

from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from lakelab.errors import InvalidInput
from lakelab.io.sources import FORMATS
from lakelab.notebook.magics import UsageError, user_errors
from lakelab.write.ingest import MODES, IngestReport


def _unquote(text: str | None) -> str | None:
    """IPython's argument splitter keeps quotes around values; users quote paths and specs."""
    if text is None:
        return None
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return shlex.split(text)[0]
    return text


@magics_class
class IngestMagics(Magics):
    @magic_arguments()
    @argument("source", help="a path, glob, directory or URL, or the name of a DataFrame / Arrow variable")
    @argument("--into", required=True, metavar="TABLE", help="the dataset to write, namespace.table")
    @argument("--mode", default="append", choices=MODES, help="create, append (default), overwrite or upsert")
    @argument("--key", metavar="COLS", help="key columns for --mode upsert, comma separated")
    @argument("--partition-by", metavar="COLS", help="e.g. region,day(ts) (when the dataset is created)")
    @argument("--format", choices=FORMATS, help="file format when the name does not tell")
    @argument("--evolve", action="store_true", help="add columns the dataset does not have yet")
    @argument("--no-progress", action="store_true", help="no progress bar")
    @line_magic
    @user_errors
    def ingest(self, line: str) -> IngestReport | None:
        """Ingest files or a kernel variable into a dataset in one atomic commit."""
        if not line.strip():
            raise UsageError("usage: %ingest SOURCE --into namespace.table [--mode append|create|overwrite|upsert]")
        try:
            args = parse_argstring(self.ingest, line)
        except (IPythonUsageError, ValueError) as e:  # bad/unknown options, an unclosed quote: one line
            raise UsageError(f"%ingest: {e}", hint="see %ingest? for the options") from None
        from lakelab.notebook.warmup import lakehouse

        return lakehouse().ingest(
            self._resolve(args.source),
            _unquote(args.into) or "",
            mode=args.mode,
            partition_by=_unquote(args.partition_by),
            key=_unquote(args.key),
            format=args.format,
            evolve=args.evolve,
            progress=False if args.no_progress else None,
        )

    def _resolve(self, text: str) -> Any:
        """A kernel variable when SOURCE names one, else the path/URL itself."""
        text = _unquote(text) or ""
        ns = self.shell.user_ns if self.shell is not None else {}
        if text.isidentifier() and text in ns:
            return ns[text]  # a DataFrame, Arrow table/reader, or a string holding a path
        if text.isidentifier() and "." not in text and "/" not in text:
            import os

            if not os.path.exists(text):
                raise InvalidInput(
                    f"{text!r} is neither a variable in this kernel nor a file",
                    hint="pass a DataFrame/Arrow variable name or a path/URL",
                )
        return text
