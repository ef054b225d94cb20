#!/bin/bash
# The first `matchgraph match` of a catalog version: copy CATALOG, drop its derived state, run the
# README's need once (nothing recorded). Time it with farm-bench against another tree:
#   farm-bench -n 3 --timeout 600 --vs "bench/first_match.sh CATALOG OLD_TREE" -- bench/first_match.sh CATALOG .
# CATALOG is a catalog directory (the Quickstart's .matchgraph); TREE a checkout put on PYTHONPATH.
set -u
catalog=${1:?usage: first_match.sh CATALOG [TREE]}
tree=$(cd "${2:-.}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$catalog" "$work/catalog"
rm -rf "$work/catalog/cache/derived"
PYTHONPATH="$tree" python -m matchgraph --catalog "$work/catalog" \
    match "small fast masked language model for CPU inference" --no-record > /dev/null
