#!/bin/sh
# Usage: check_exports.sh LIBRARY EXPECTED
# The code and data symbols the shared LIBRARY defines and exports (demangled, sorted) must be
# exactly the lines of EXPECTED: a missing one is public API a program cannot link, an extra one
# an internal leaking into the ABI (include/dynjobs/export.hpp marks what is public). Weak
# symbols (inline functions and templates of default visibility, such as Boost's exception
# types) are not listed: every program that uses them defines them as well.
set -eu
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
nm -D --defined-only -C "$1" | sed -n 's/^[0-9a-f]* [TDBR] //p' | LC_ALL=C sort -u >"$actual"
if ! diff -u "$2" "$actual"; then
    echo "$1 exports other symbols than $2 lists (- listed, not exported; + exported, not" \
         "listed). If the public API changed on purpose, update the list:" >&2
    echo "  nm -D --defined-only -C $1 | sed -n 's/^[0-9a-f]* [TDBR] //p' | LC_ALL=C sort -u > $2" >&2
    exit 1
fi
echo "$1: exports exactly the $(wc -l <"$2") symbols $2 lists"
