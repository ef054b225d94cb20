"""Markdown tables as the bench scripts print them (and BENCHMARKS.md keeps them).

Not a script: the scripts beside it import it (``python bench/X.py`` puts ``bench/`` on the path).

Example
-------
>>> print(table_head(["query", "bytes"], align="lr"))
| query | bytes |
|---|---:|
>>> print(table_row(["VALUES", "1,024"]), table_row(["nested", ""]), sep="\\n")
| VALUES | 1,024 |
| nested | |
"""

from __future__ import annotations

from collections.abc import Sequence

#: The separator cell of a column by its alignment letter.
RULES = {"l": "---", "r": "---:"}


def table_row(cells: Sequence[object]) -> str:
    """One table line: each cell between ``|`` with a space either side, an empty cell a single space.

    Parameters
    ----------
    cells : sequence
        The cells, already formatted (``str()`` is applied).

    Returns
    -------
    str
        ``| a | b |``, without a newline.
    """
    return "|" + "|".join(f" {cell} " if str(cell) else " " for cell in cells) + "|"


def table_head(header: Sequence[str], align: str = "") -> str:
    """The header line and the separator line of a table.

    Parameters
    ----------
    header : sequence of str
        The column titles.
    align : str, optional
        One letter a column, ``l`` (``---``) or ``r`` (``---:``); columns past its end are ``l``.

    Returns
    -------
    str
        The two lines, joined by a newline, without a final one.
    """
    rules = [RULES[align[i]] if i < len(align) else RULES["l"] for i in range(len(header))]
    return table_row(header) + "\n|" + "|".join(rules) + "|"
