#!/usr/bin/env bash
# Compares what users wait for -- `certplan validate` of 10,000 manifests
# (BenchmarkLoad10k in pkg/spec) and `certplan plan --refresh=false` with a
# full 10,000-entry state (BenchmarkPlanCommand10k in cmd/certplan) --
# between a base revision and the working tree.
#
#   scripts/bench-compare.sh BASE_REV [ROUNDS]
#
# BASE_REV must already have the realistic generators (internal/projectgen),
# e.g. 4a132df. Both sides are compiled first, then run alternately ROUNDS
# times (default 3, each with -benchtime 3x), so a busy neighbour slows both
# alike. Prints every run, then the median of each metric per side.
set -euo pipefail
base=${1:?usage: scripts/bench-compare.sh BASE_REV [ROUNDS]}
rounds=${2:-3}
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkdir "$tmp/base"
git -C "$root" archive "$base" | tar -x -C "$tmp/base"
src_base=$tmp/base
src_head=$root
for side in base head; do
	src=src_$side
	(cd "${!src}" && go test -c -o "$tmp/$side-spec.test" ./pkg/spec && go test -c -o "$tmp/$side-cmd.test" ./cmd/certplan)
done

bench() { # side package binary benchmark
	local src=src_$1
	(cd "${!src}/$2" && "$tmp/$1-$3.test" -test.run '^$' -test.bench "^$4\$" -test.benchtime 3x -test.benchmem) |
		grep '^Benchmark' | sed "s/^/$1 /"
}
for _ in $(seq "$rounds"); do
	for side in base head; do
		bench "$side" pkg/spec spec BenchmarkLoad10k
		bench "$side" cmd/certplan cmd BenchmarkPlanCommand10k
	done
done | tee "$tmp/runs"

echo
echo "median of $rounds runs:"
for b in BenchmarkLoad10k BenchmarkPlanCommand10k; do
	for side in base head; do
		line="$side $b"
		for unit in ns/op cpu-s/op B/op allocs/op; do
			m=$(grep "^$side $b-" "$tmp/runs" |
				awk -v u="$unit" '{for (i = 4; i < NF; i++) if ($(i+1) == u) print $i}' |
				sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}')
			line="$line  ${m:-?} $unit"
		done
		echo "$line"
	done
done
