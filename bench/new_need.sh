#!/bin/bash
# A `matchgraph match` on a copy of CATALOG, derived state kept (its first match done): by default a
# need nobody asked before, so the imported records it reads are embedded now (BENCHMARKS.md, round
# 12); NEED to choose another (the README's need again: nothing new to embed). Time it against
# another tree:
#   farm-bench -n 5 --vs "bench/new_need.sh CATALOG OLD_TREE" -- bench/new_need.sh CATALOG .
# CATALOG is a catalog directory whose first match is done; TREE a checkout put on PYTHONPATH.
set -u
catalog=${1:?usage: new_need.sh CATALOG [TREE] [NEED]}
tree=$(cd "${2:-.}" && pwd)
need=${3:-multilingual sentence embedding model for retrieval}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$catalog" "$work/catalog"
PYTHONPATH="$tree" python -m matchgraph --catalog "$work/catalog" match "$need" --no-record > /dev/null
