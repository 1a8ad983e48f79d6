#!/bin/sh
# Runs each fuzzer for SECONDS (default 300), one after another, with PARALLEL workers
# (default 1). Whatever a fuzzer finds is written under the package's testdata/fuzz/ by
# go test: fix the bug, keep the file as a seed (plain `go test` runs it from then on).
#
#   scripts/fuzz.sh            # 5 minutes each
#   scripts/fuzz.sh 30         # a quick pass
#   PARALLEL=2 scripts/fuzz.sh # on a machine of your own
set -u
cd "$(dirname "$0")/.."
seconds=${1:-300}
parallel=${PARALLEL:-1}
status=0
for target in \
	./source/:FuzzCSV \
	./source/:FuzzXLSX \
	./source/:FuzzXLSXParts \
	./source/:FuzzSheetScanner \
	./mapping/:FuzzLoad \
	./mapping/:FuzzApply; do
	pkg=${target%%:*}
	name=${target#*:}
	echo "== $name ($pkg) for ${seconds}s"
	if ! go test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "${seconds}s" -parallel "$parallel" -fuzzminimizetime "${MINIMIZE:-10s}"; then
		echo "== $name FAILED: the failing input is under ${pkg}testdata/fuzz/$name/" >&2
		status=1
	fi
done
exit $status
