# Sourced by the before/after bench scripts (rules-update-ab.sh, firewall-apply.sh): builds this
# checkout's bench jar and an earlier commit's (exported with `git archive` into a scratch
# directory, as bench/scripts/ab.sh does) and puts them at $TMP/after.jar and $TMP/before.jar.
#   build_ab_jars BEFORE [FILE ...]   FILEs (paths in this checkout) are copied into the earlier
#                                     commit's tree before it is built (e.g. this checkout's bench class)
# Needs JAVA, SLUICE_HOME (the current directory), die; sets BEFORE_SHA, AFTER_SHA, TMP (removed on exit).
build_ab_jars() {
    local before=$1; shift
    BEFORE_SHA=$(git rev-parse --short "$before") || die "no commit $before"
    AFTER_SHA=$(git rev-parse --short HEAD)
    TMP=$(mktemp -d)
    trap 'rm -rf "$TMP"' EXIT
    export JAVA_HOME=$(dirname "$(dirname "$JAVA")") PATH=$(dirname "$JAVA"):$PATH
    mvn -B -o -q package -DskipTests -pl bench -am >&2 || die "build of this checkout failed"
    cp bench/target/benchmarks.jar "$TMP/after.jar"
    mkdir "$TMP/before"
    git archive "$before" | tar -x -C "$TMP/before"
    local f
    for f in "$@"; do
        mkdir -p "$TMP/before/$(dirname "$f")"
        cp "$f" "$TMP/before/$f"
    done
    (cd "$TMP/before" && mvn -B -o -q package -DskipTests -pl bench -am >&2) || die "build of $BEFORE_SHA failed"
    cp "$TMP/before/bench/target/benchmarks.jar" "$TMP/before.jar"
}
