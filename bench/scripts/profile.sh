#!/usr/bin/env bash
# Where a Sluice bench's worker spends its cycles: perf samples of one bench JVM (its JIT code named
# through -XX:+DumpPerfMapAtExit), 4 s from 6 s after start, per thread, DSO and symbol.
# usage: bench/scripts/profile.sh OUT JAR NATIVE_LIB MAIN_CLASS ARGS...
#   e.g. bench/scripts/profile.sh /tmp/fwd bench/target/benchmarks.jar native/target/libsluice.so \
#        io.sluice.bench.forward.ForwardBench --pipeline parse-l2 --lcore 1 --warmup 3 --seconds 8 --mbufs 16384 --burst 32 --macs 1000
# Writes OUT.log (the bench's output), OUT.data (perf) and OUT.txt (the top 60 symbols). Needs perf and root.
set -u
out=$1; jar=$2; lib=$3; shift 3
J=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
F="--enable-native-access=ALL-UNNAMED --add-exports java.base/jdk.internal.misc=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED -Dchronicle.analytics.disable=true"
$J $F -XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit -XX:+PreserveFramePointer -Dsluice.native.lib=$lib -cp $jar "$@" > $out.log 2>&1 &
pid=$!
sleep 6
perf record -F 2999 -p $pid -o $out.data -- sleep 4 2>/dev/null >/dev/null
wait $pid
rm -rf /var/run/dpdk/slb-fwd$pid /var/run/dpdk/sluice$pid
perf report -i $out.data --no-children --sort comm,dso,symbol --stdio 2>/dev/null | grep -v "^#" | grep -v "^$" | head -60 > $out.txt
