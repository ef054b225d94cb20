"""Time parse_query on VALUES queries that hold the letters 'load' (mgc:data-loading): python bench/bench_sparql_reach.py TREE."""
import sys, time
sys.path.insert(0, sys.argv[1])
from matchgraph.store.sparql import parse_query
from matchgraph.errors import QueryError
for n in (100, 1000, 10000):
    text = "SELECT ?c WHERE { ?c mg:concept mgc:data-loading VALUES ?v { " + " ".join(str(i) for i in range(n)) + " } }"
    best = 1e9
    for _ in range(3):
        t = time.perf_counter()
        try:
            parse_query(text); ok = "ok"
        except QueryError as e:
            ok = "refused: " + str(e)[:60]
        best = min(best, time.perf_counter() - t)
    print(f"{n} values, {len(text)} bytes: {best:.4f} s {ok}")
