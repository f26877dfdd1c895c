#!/bin/sh
# bench/hot-paths.pl on an older commit and on this tree, alternately, so
# that both see the same load: the before/after of docs/performance.md.
#
#   sh bench/ab-base.sh [REV] [ROUNDS]     (default: bfc4665, 2 rounds)
#
# The older tree is exported to target/base and built there; its outputs
# and this tree's go to target/ab-base-N.txt and target/ab-new-N.txt.
set -e
rev=${1:-bfc4665}
rounds=${2:-2}
args="--calls 100 --warm 100 --big-calls 10 --recipients 100"
rm -rf target/base
mkdir -p target/base
git archive "$rev" | tar -x -C target/base
# The same benchmark in both trees.
cp bench/hot-paths.pl bench/BenchCases.pm target/base/bench/
(cd target/base && mvn -B -q -o -DskipTests package)
round=1
while [ "$round" -le "$rounds" ]; do
    (cd target/base &&
        SYMPA_SMIME_JAR=$PWD/target/sympa-smime.jar perl bench/hot-paths.pl $args) \
        >"target/ab-base-$round.txt" 2>&1
    SYMPA_SMIME_JAR=$PWD/target/sympa-smime.jar perl bench/hot-paths.pl $args \
        >"target/ab-new-$round.txt" 2>&1
    round=$((round + 1))
done
tail -n +1 target/ab-base-*.txt target/ab-new-*.txt
