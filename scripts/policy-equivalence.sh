#!/usr/bin/env bash
# Whether a change to policy/ leaves every decision as it was: builds
# tests/policy/equivalence_dump.cpp against the policy sources of a base revision and
# against the working tree's, reads the same corpus with both (the DataJoint traces,
# the statements production must allow, the differential findings, the policy test
# tables, the generator's exhaustive templates and --count random statements) and
# compares everything the analyser returns, byte for byte.
#
#   scripts/policy-equivalence.sh [--base REV (default: merge-base with main)] [--count N] [--seed S] [--keep DIR]
#
# Exit status 0: no difference; 1: differences (the first few are printed).
set -euo pipefail
cd "$(dirname "$0")/.."

base= count=200000 seed=20261205 keep=
while [[ $# -gt 0 ]]; do
  case $1 in
    --base) base=$2; shift 2 ;;
    --count) count=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "usage: $0 [--base REV] [--count N] [--seed S] [--keep DIR]" >&2; exit 2 ;;
  esac
done

# By default, the point where this branch left main: what main decided before the change.
[[ -n $base ]] || base=$(git merge-base HEAD main)
work=${keep:-$(mktemp -d /tmp/policy-equivalence.XXXXXX)}
[[ -n $keep ]] || trap 'rm -rf "$work"' EXIT
# The base side is kept by its commit (with --keep, a later run reuses its build).
base_dir=base-$(git rev-parse "$base^{commit}")
rm -rf "$work/head"
mkdir -p "$work/$base_dir" "$work/head"
[[ -f $work/$base_dir/dump ]] || git archive "$base" policy | tar -x -C "$work/$base_dir"
cp -r policy "$work/head/"

# The same compiler and flags for both; the driver and the case tables are the
# working tree's, the policy sources each side's own.
build() {  # build SIDE
  local dir=$work/$1
  ${CXX:-g++} -std=c++20 -O2 -I"$dir" -I. -o "$dir/dump" tests/policy/equivalence_dump.cpp "$dir"/policy/*.cpp
}
b=
[[ -f $work/$base_dir/dump ]] || { build "$base_dir" & b=$!; }
build head & h=$!
[[ -z $b ]] || wait $b
wait $h

python3 scripts/policy_equivalence_corpus.py --count "$count" --seed "$seed" >"$work/corpus.jsonl"
"$work/head/dump" --emit-cases >>"$work/corpus.jsonl"
lines=$(wc -l <"$work/corpus.jsonl")

"$work/$base_dir/dump" <"$work/corpus.jsonl" >"$work/base.jsonl" & b=$!
"$work/head/dump" <"$work/corpus.jsonl" >"$work/head.jsonl" & h=$!
wait $b && wait $h

if cmp -s "$work/base.jsonl" "$work/head.jsonl"; then
  echo "policy-equivalence: $lines statements, no difference from $base ($(git rev-parse --short "$base"))"
  exit 0
fi
echo "policy-equivalence: differences from $base in $lines statements:"
paste -d '\n' "$work/corpus.jsonl" "$work/base.jsonl" "$work/head.jsonl" |
  awk 'NR % 3 == 1 { input = $0 } NR % 3 == 2 { before = $0 } NR % 3 == 0 && before != $0 {
         if (++n <= 5) print "input:  " input "\nbefore: " before "\nafter:  " $0 "\n"; total++ }
       END { print total " lines differ" }'
exit 1
