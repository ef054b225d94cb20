"""A SPARQL query worker: a process that runs one query at a time on a read-only store snapshot.

The endpoint (:mod:`matchgraph.web.endpoint`) starts a few of these with ``python -m
matchgraph.web.query_worker`` and talks to each over its standard input and output, one pickled job
and one pickled reply at a time, each framed by an 8-byte length. Oxigraph cannot interrupt a
query from another thread, so a query past its deadline is stopped the only sure way: its worker
process is killed (and a fresh one started); it dies with the server
(:func:`matchgraph.store.isolation.die_with_parent`). The worker imports nothing but pyoxigraph,
the standard library and that module (the standard library only), so a new one is ready in a
fraction of a second.

Job (a dict)
    ``snapshot`` (store directory, opened read-only), ``query``, ``prefixes``, ``base_iri``,
    ``union`` (the default graph is the union of the named graphs), ``default_graphs``,
    ``named_graphs``, ``fmt`` (``json``, ``xml``, ``csv``, ``tsv``; ``turtle``, ``nt``,
    ``json-ld``, ``rdfxml``, ``n3``), ``max_rows``.
Reply (a dict)
    ``{"ok": True, "body": bytes, "rows": int, "truncated": bool}`` or
    ``{"ok": False, "kind": "syntax" | "unwritable" | "failed", "message": str}`` (``unwritable``: the
    format cannot hold this result, such as XML and a literal with a control character).
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from itertools import islice
from typing import Any

_HEADER = struct.Struct(">Q")

#: Output format -> pyoxigraph format attribute.
RESULT_FORMATS = {"json": "JSON", "xml": "XML", "csv": "CSV", "tsv": "TSV"}
GRAPH_FORMATS = {"turtle": "TURTLE", "nt": "N_TRIPLES", "json-ld": "JSON_LD", "rdfxml": "RDF_XML", "n3": "N3"}


def read_frame(stream: Any) -> Any:
    """Read one framed pickle from a binary stream; None at end of stream."""
    head = _read_exactly(stream, _HEADER.size)
    if head is None:
        return None
    body = _read_exactly(stream, _HEADER.unpack(head)[0])
    if body is None:
        return None
    return pickle.loads(body)


def _read_exactly(stream: Any, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def write_frame(stream: Any, obj: Any) -> None:
    """Write one framed pickle to a binary stream and flush it."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _tsv_term(term: Any, ox: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Triple):
        return "<<( " + " ".join(_tsv_term(t, ox) for t in (term.subject, term.predicate, term.object)) + " )>>"
    return str(term)


def truncation_note(max_rows: int) -> dict[str, Any]:
    """What a cut SPARQL JSON result says about it, next to ``head`` and ``results``."""
    return {"truncated": True, "maxRows": max_rows,
            "message": f"only the first {max_rows} rows are returned; add a LIMIT (and ORDER BY) "
                       "or OFFSET to page through the rest"}


def run_job(job: dict[str, Any], stores: dict[str, Any]) -> dict[str, Any]:
    """Run one job (see the module docstring) and return its reply."""
    import json

    import pyoxigraph as ox

    store = stores.get(job["snapshot"])
    if store is None:
        stores.clear()  # one snapshot at a time: the previous version's store is closed
        store = stores[job["snapshot"]] = ox.Store.read_only(job["snapshot"])
    options: dict[str, Any] = {"prefixes": job["prefixes"], "base_iri": job.get("base_iri")}
    fmt, cap = job["fmt"], job["max_rows"]
    try:
        if job.get("default_graphs") or job.get("named_graphs"):
            # the protocol's dataset replaces the query's: graphs not named are in neither part
            options["default_graph"] = [ox.NamedNode(g) for g in job.get("default_graphs") or []]
            options["named_graphs"] = [ox.NamedNode(g) for g in job.get("named_graphs") or []]
        elif job.get("union"):
            options["use_default_graph_as_union"] = True
        result = store.query(job["query"], **options)
        if isinstance(result, ox.QueryBoolean):
            return {"ok": True, "rows": 1, "truncated": False,
                    "body": result.serialize(format=getattr(ox.QueryResultsFormat, RESULT_FORMATS[fmt]))}
        if isinstance(result, ox.QueryTriples):
            triples = list(islice(result, cap + 1))
            from ..store.serialize import Unwritable, write_triples

            try:
                body = write_triples(triples[:cap], GRAPH_FORMATS[fmt], job["prefixes"])
            except Unwritable as exc:  # a format that cannot hold the result
                return {"ok": False, "kind": "unwritable", "message": str(exc)}
            return {"ok": True, "body": body, "rows": min(len(triples), cap), "truncated": len(triples) > cap}
        names = [v.value for v in result.variables]
        lines = ["\t".join("?" + n for n in names)]
        for solution in islice(result, cap + 1):
            lines.append("\t".join(_tsv_term(solution[n], ox) for n in names))
        rows = len(lines) - 1
        truncated = rows > cap
        if truncated:
            del lines[-1]
        # The solutions as SPARQL TSV (each term in pyoxigraph's own N-Triples syntax), read back
        # and written by pyoxigraph's serialiser in the format asked for.
        solutions = ox.parse_query_results("\n".join(lines) + "\n", format=ox.QueryResultsFormat.TSV)
        from ..store.serialize import Unwritable, write_solutions

        try:
            body = write_solutions(solutions, RESULT_FORMATS[fmt])
        except Unwritable as exc:  # XML, and a literal it cannot carry: the client's next choice, or 406
            return {"ok": False, "kind": "unwritable", "message": str(exc)}
        if truncated and fmt == "json" and body.endswith(b"}"):
            # the row cap said in the body too, as a member beside head and results
            body = body[:-1] + b',"matchgraph":' + json.dumps(truncation_note(cap)).encode() + b"}"
        return {"ok": True, "body": body, "rows": min(rows, cap), "truncated": truncated}
    except SyntaxError as exc:
        return {"ok": False, "kind": "syntax", "message": str(exc)}
    except KeyError as exc:  # the result is of another form than the endpoint read from the text
        return {"ok": False, "kind": "failed",
                "message": f"the result cannot be written as {exc.args[0]}: the query's form was misread"}
    except Exception as exc:  # noqa: BLE001 - a worker answers every job; only the engine's own crash kills it
        return {"ok": False, "kind": "failed", "message": str(exc) or type(exc).__name__}


def main() -> None:
    """Serve jobs from standard input until it closes."""
    import signal

    from ..store.isolation import die_with_parent

    # Ctrl-C in the terminal reaches the whole process group: the server stops its workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(os.getppid())  # a kill -9 of the server must not leave a long query running here
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the frames
    stores: dict[str, Any] = {}
    write_frame(stdout, {"ready": True})
    while True:
        job = read_frame(stdin)
        if job is None:
            return
        write_frame(stdout, run_job(job, stores))


if __name__ == "__main__":
    main()
