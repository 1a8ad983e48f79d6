#!/usr/bin/env bash
# testtime.sh: how the suite's test time splits between packages, from one
# `go test -count=1 -json ./...` run (issue 10: the root package takes <= 40 %).
#
#   bash scripts/testtime.sh [go test flags...]     e.g. -race, -run X
#
# Prints each package's elapsed seconds (the "pass"/"fail" event's Elapsed), their
# sum, the root package's share of it, the slowest top-level root tests, the
# load average before and after, and the run's user CPU. Extra arguments go to
# go test (after -count=1 -json). TESTTIME_JSON=file keeps the JSON events there.
# Exits with go test's status.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(go list -m)
out=${TESTTIME_JSON:-$(mktemp)}
[ -n "${TESTTIME_JSON:-}" ] || trap 'rm -f "$out"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s)
TIMEFORMAT='user %U s, sys %S s, wall %R s'
{ time go test -count=1 -json "$@" ./... >"$out"; } 2>&1
rc=${PIPESTATUS[0]}
status=$(grep -c '"Action":"fail","Package"' "$out" || true)
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg); wall $(( $(date +%s) - start )) s"
ROOT="$root" python3 - "$out" <<'PY'
import json, os, sys
root = os.environ["ROOT"]
pkg, tests = {}, {}
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("Action") not in ("pass", "fail") or "Elapsed" not in e:
        continue
    p, t = e.get("Package"), e.get("Test")
    if t is None:
        pkg[p] = (e["Elapsed"], e["Action"])
    elif p == root and "/" not in t:
        tests[t] = (e["Elapsed"], e["Action"])
total = sum(v[0] for v in pkg.values())
for p, (s, a) in sorted(pkg.items(), key=lambda kv: -kv[1][0]):
    print(f"{s:8.2f} s  {a:4}  {p}")
r = pkg.get(root, (0, ""))[0]
print(f"{total:8.2f} s  sum of packages; root {r:.2f} s = {100*r/total if total else 0:.1f} %, others {total-r:.2f} s")
print(f"root top-level tests: {sum(v[0] for v in tests.values()):.2f} s summed; slowest:")
for t, (s, a) in sorted(tests.items(), key=lambda kv: -kv[1][0])[:15]:
    print(f"  {s:6.2f} s  {a:4}  {t}")
fails = [p for p, (s, a) in pkg.items() if a == "fail"]
if fails:
    print("FAILED:", " ".join(fails))
PY
exit "$rc"
