#!/usr/bin/env bash
# CPU cost of verifying messages built to exhaust a certificate path searcher, next to
# openssl cms -verify on the same bytes (the cases: src/test/java/org/sympasmime/testutil/
# PathologicalMessages.java). The target is at most 1 s of CPU per message for ours.
#
#   bash bench/pathological-verify.sh [LIMIT_SECONDS] [CASE...]
#
# One JVM per case: after a warm-up, "ours ms" is the CPU time of the verifying thread,
# "openssl ms" the wall time of the openssl process (start-up included, a few ms); a case
# still running after LIMIT_SECONDS (default 120) is abandoned and shown as ">limit".
# Not a test: numbers depend on the machine; compare the columns with each other.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-120}
shift || true
cases=("$@")
if [ ${#cases[@]} -eq 0 ]; then
  cases=(signers-1000 certs-5000 lattice-20x20-unreachable lattice-20x20-failing
         lattice-12x12-unreachable lattice-12x12-failing lattice-9x7-failing
         lattice-9x7-unreachable)
fi
mkdir -p target
mvn -B -q test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/bench-classpath.txt >target/bench-build.log 2>&1 \
  || { cat target/bench-build.log; exit 1; }
cp="target/test-classes:target/classes:$(cat target/bench-classpath.txt)"
printf '%-28s %8s  %-16s %10s  %-9s %10s  %6s\n' case bytes ours "ours ms" openssl \
  "openssl ms" ratio
for c in "${cases[@]}"; do
  java -cp "$cp" org.sympasmime.smime.PathologicalVerifyBench "$c" "$limit"
done
