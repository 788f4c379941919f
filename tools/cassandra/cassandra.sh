#!/usr/bin/env bash
# A real Apache Cassandra 5.0.9 server on loopback, for development, tests and CI.
# It runs cassandra-all from Maven Central (resolved by tools/cassandra/pom.xml) in its own JVM;
# no Docker and no Cassandra install needed, only Java 17 and Maven.
#   tools/cassandra/cassandra.sh start         start in the background, wait until CQL answers (idempotent)
#   tools/cassandra/cassandra.sh status        print the endpoint and exit 0 if up, else exit 1
#   tools/cassandra/cassandra.sh stop          SIGTERM, after 30 s SIGKILL (idempotent)
#   tools/cassandra/cassandra.sh wipe          stop, then delete all data (also: stop --wipe)
# Also reachable as `./lamina cassandra start|stop|status|wipe`.
# Settings (environment):
#   LAMINA_CASSANDRA_DIR           state directory: data, config, log, pid (default <repo>/.cassandra)
#   LAMINA_CASSANDRA_PORT          native CQL port (default 9142)
#   LAMINA_CASSANDRA_STORAGE_PORT  inter-node storage port (default 7100)
#   LAMINA_CASSANDRA_HEAP          JVM max heap (default 512m; the process's RSS: ~0.6 GB idle, ~1 GB busy)
#   LAMINA_CASSANDRA_JAVA          java binary; must be 17 (default: `java` if it is 17, else a JDK 17
#                                  under /usr/lib/jvm). Cassandra 5.0 needs the SecurityManager (gone in 24).
#   LAMINA_CASSANDRA_TIMEOUT       seconds `start` waits for CQL (default 120)
#   LAMINA_CASSANDRA_JMX_PORT      if set, an unauthenticated JMX server on 127.0.0.1:<port> (its RMI
#                                  objects take a random loopback port); unset: no JMX port at all
# Everything listens on 127.0.0.1 only. To run a second instance, give it its own DIR and ports.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

state_dir="${LAMINA_CASSANDRA_DIR:-$repo/.cassandra}"
cql_port="${LAMINA_CASSANDRA_PORT:-9142}"
storage_port="${LAMINA_CASSANDRA_STORAGE_PORT:-7100}"
heap="${LAMINA_CASSANDRA_HEAP:-512m}"
timeout_s="${LAMINA_CASSANDRA_TIMEOUT:-120}"
jmx_port="${LAMINA_CASSANDRA_JMX_PORT:-}"
host=127.0.0.1

case "$state_dir" in /*) ;; *) state_dir="$PWD/$state_dir" ;; esac  # it goes into the yaml and URLs
pid_file="$state_dir/cassandra.pid"
log_file="$state_dir/cassandra.log"
classpath_file="$state_dir/classpath"
conf_dir="$state_dir/conf"
# The directories Cassandra writes; `wipe` deletes exactly these (never the whole state dir,
# which a user may have pointed somewhere shared).
data_dirs=(data commitlog saved_caches hints cdc_raw)

# start, stop and wipe hold this lock, so two concurrent `start`s cannot launch two servers on
# one data directory (the second waits, then finds the first one running).
lock() {
  mkdir -p "$state_dir"
  exec 9>"$state_dir/.lock"
  flock -w $((timeout_s + 60)) 9 || die "another cassandra.sh is busy with $state_dir"
}

say() { echo "cassandra: $*" >&2; }
die() { say "$*"; exit 1; }

now_ms() { date +%s%3N; }
seconds_since() {  # "4.2" for a start time from now_ms
  local ms=$(( $(now_ms) - $1 ))
  echo "$((ms / 1000)).$((ms % 1000 / 100))"
}

# --- Java --------------------------------------------------------------------------------------

java_major() {  # prints the feature version of the given java binary, e.g. 17
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p'
}

find_java() {
  if [ -n "${LAMINA_CASSANDRA_JAVA:-}" ]; then
    [ "$(java_major "$LAMINA_CASSANDRA_JAVA")" = 17 ] \
      || die "LAMINA_CASSANDRA_JAVA=$LAMINA_CASSANDRA_JAVA is not Java 17"
    echo "$LAMINA_CASSANDRA_JAVA"; return
  fi
  if command -v java >/dev/null 2>&1 && [ "$(java_major java)" = 17 ]; then
    echo java; return
  fi
  local candidate
  for candidate in /usr/lib/jvm/*/bin/java; do
    [ -x "$candidate" ] && [ "$(java_major "$candidate")" = 17 ] && { echo "$candidate"; return; }
  done
  die "no Java 17 found (Cassandra 5.0 does not run on later JDKs); set LAMINA_CASSANDRA_JAVA"
}

# --- Classpath ---------------------------------------------------------------------------------

# Resolved once and cached: Maven takes a few seconds even when everything is in ~/.m2.
# Re-resolved when the cache is missing, the pom changed, or ~/.m2 lost the server jar.
ensure_classpath() {
  if [ -s "$classpath_file" ] && [ ! "$here/pom.xml" -nt "$classpath_file" ] \
      && [ -f "$(server_jar)" ]; then
    return
  fi
  say "resolving the Cassandra classpath with Maven (once)..."
  local tmp="$classpath_file.tmp" out
  # Maven's output only matters when it fails (quiet mode still prints colour resets).
  if ! out="$(mvn -B -q -Dstyle.color=never -f "$here/pom.xml" dependency:build-classpath \
      -Dmdep.outputFile="$tmp" 2>&1)"; then
    echo "$out" >&2
    die "could not resolve org.apache.cassandra:cassandra-all with Maven"
  fi
  mv "$tmp" "$classpath_file"
}

jar_on_classpath() {  # the first classpath entry whose file name matches the pattern
  tr ':' '\n' <"$classpath_file" | grep -m1 "/$1" || true
}

server_jar() { jar_on_classpath 'cassandra-all-[^/]*\.jar$'; }

# --- Process -----------------------------------------------------------------------------------

# The pid of the server this script started for this state dir, or nothing. The pid file alone
# is not trusted: the command line must also name our yaml, so a reused pid is never signalled.
running_pid() {
  [ -f "$pid_file" ] || return 0
  local pid; pid="$(cat "$pid_file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  if { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF "cassandra.config=file://$conf_dir/cassandra.yaml"; then
    echo "$pid"
  fi
}

# A real CQL handshake (protocol v4 OPTIONS frame; the reply header of SUPPORTED is 84 00 00 00 06)
# in plain bash, so no driver or cqlsh is needed. An open port alone is not enough.
cql_ready() {
  local reply
  reply="$(timeout 3 bash -c '
      exec 3<>"/dev/tcp/$0/$1" || exit 1
      printf "\x04\x00\x00\x00\x05\x00\x00\x00\x00" >&3
      head -c 5 <&3 | od -An -tx1' "$host" "$cql_port" 2>/dev/null)" || return 1
  [ "$(echo $reply)" = "84 00 00 00 06" ]
}

port_in_use() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$1" 2>/dev/null
}

# Waits for the handshake; fails early if the JVM exits.
wait_until_ready() {
  local pid="$1" deadline=$(( $(date +%s) + timeout_s ))
  while ! cql_ready; do
    kill -0 "$pid" 2>/dev/null || { say "the server exited during start-up"; return 1; }
    [ "$(date +%s)" -lt "$deadline" ] || { say "no CQL answer within ${timeout_s}s"; return 1; }
    sleep 0.5
  done
}

# SIGTERM to the whole process group (the server runs in its own session, see launch), so
# Cassandra's shutdown hook flushes; SIGKILL if it is still there after 30 s.
terminate() {
  local pid="$1" i
  kill -TERM -- "-$pid" 2>/dev/null || true
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  say "still running after 30s; killing"
  kill -KILL -- "-$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
}

fail_start() {
  say "start failed; last 40 lines of $log_file:"
  tail -n 40 "$log_file" >&2 || true
  local pid; pid="$(running_pid)"
  [ -z "$pid" ] || terminate "$pid"
  rm -f "$pid_file"
  exit 1
}

# --- Configuration -----------------------------------------------------------------------------

# A minimal single-node config. Only what differs from Cassandra's defaults or is required.
write_config() {
  mkdir -p "$conf_dir" "${data_dirs[@]/#/$state_dir/}"
  cat >"$conf_dir/cassandra.yaml" <<EOF
# Written by tools/cassandra/cassandra.sh on every start; edits are overwritten.
cluster_name: 'Lamina dev'
# One token, and no token-allocation search on start-up: a single node has nothing to balance.
num_tokens: 1
allocate_tokens_for_local_replication_factor: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer

data_file_directories:
  - $state_dir/data
commitlog_directory: $state_dir/commitlog
saved_caches_directory: $state_dir/saved_caches
hints_directory: $state_dir/hints
cdc_raw_directory: $state_dir/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms

# Loopback only.
listen_address: $host
rpc_address: $host
storage_port: $storage_port
native_transport_port: $cql_port
start_native_transport: true
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "$host:$storage_port"

# Small footprint for a development machine.
memtable_heap_space: 128MiB
memtable_offheap_space: 128MiB
concurrent_compactors: 1
# Tests drop and truncate tables all the time; snapshots of them would only fill the disk.
auto_snapshot: false
# 5.0 storage formats and features; there is no older node to stay compatible with.
storage_compatibility_mode: NONE
EOF
  # Cassandra ships no logging config in its jar; without one logback logs everything at DEBUG.
  cat >"$conf_dir/logback.xml" <<'EOF'
<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
EOF
}

# --- Launch ------------------------------------------------------------------------------------

jvm_options() {
  local jamm; jamm="$(jar_on_classpath 'jamm-[^/]*\.jar$')"
  [ -n "$jamm" ] || die "jamm is not on the resolved classpath"
  local opts=(
    "-Xmx$heap"
    -XX:+UseG1GC
    # Die rather than limp on after an OutOfMemoryError (Cassandra's own advice: it risks corruption).
    -XX:+ExitOnOutOfMemoryError
    # From Cassandra's conf/jvm17-server.options: the module system must let it reach JDK internals.
    -Djdk.attach.allowAttachSelf=true -Djava.net.preferIPv4Stack=true
    -Dio.netty.tryReflectionSetAccessible=true
  )
  local m
  for m in java.base/jdk.internal.misc java.management.rmi/com.sun.jmx.remote.internal.rmi \
      java.rmi/sun.rmi.registry java.rmi/sun.rmi.server java.sql/java.sql java.base/java.lang.ref \
      jdk.unsupported/sun.misc jdk.compiler/com.sun.tools.javac.file jdk.attach/sun.tools.attach; do
    opts+=(--add-exports "$m=ALL-UNNAMED")
  done
  for m in java.base/java.lang.module java.base/jdk.internal.loader java.base/jdk.internal.ref \
      java.base/jdk.internal.reflect java.base/jdk.internal.math java.base/jdk.internal.module \
      java.base/jdk.internal.util.jar jdk.management/com.sun.management.internal java.base/sun.nio.ch \
      java.base/java.io java.base/java.lang.reflect jdk.compiler/com.sun.tools.javac \
      java.base/java.lang java.base/java.util; do
    opts+=(--add-opens "$m=ALL-UNNAMED")
  done
  opts+=(
    # jamm measures object sizes for memtable accounting; it must be an agent.
    "-javaagent:$jamm"
    # A single node has no gossip to wait for: 6 s to CQL instead of almost 40.
    -Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.ring_delay_ms=100
    # ...and no peer to tell it is going away: `stop` skips a 2 s sleep.
    -Dcassandra.shutdown_announce_in_ms=0
    "-Dcassandra.config=file://$conf_dir/cassandra.yaml"
    "-Dlogback.configurationFile=file://$conf_dir/logback.xml"
    "-Dcassandra.storagedir=$state_dir" "-Dcassandra.logdir=$state_dir"
    -Dcassandra-foreground=yes
  )
  # Started directly, CassandraDaemon opens no JMX port at all unless asked. When asked, use the
  # "local" variant: registry and server bound to the loopback address, no authentication.
  [ -z "$jmx_port" ] || opts+=("-Dcassandra.jmx.local.port=$jmx_port")
  printf '%s\n' "${opts[@]}"
}

launch() {
  local java="$1" opts
  mapfile -t opts < <(jvm_options)
  [ ! -f "$log_file" ] || mv -f "$log_file" "$log_file.1"   # keep the previous run's log
  # setsid: its own session and process group, so `stop` can signal everything it started and
  # a Ctrl-C in the calling terminal does not reach it. The child writes its own pid (which is
  # also the group id) before exec-ing java, so the pid file never names a wrapper.
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pid_file" \
      "$java" "${opts[@]}" -cp "$(cat "$classpath_file")" org.apache.cassandra.service.CassandraDaemon \
      </dev/null >"$log_file" 2>&1 9>&- &   # 9>&-: the server must not inherit the lock
  local i
  for ((i = 0; i < 50; i++)); do [ -s "$pid_file" ] && return; sleep 0.1; done
  die "the server process did not start"
}

# --- Commands ----------------------------------------------------------------------------------

cmd_start() {
  local pid; pid="$(running_pid)"
  if [ -n "$pid" ]; then
    if cql_ready; then
      say "already running (pid $pid)"; echo "$host:$cql_port"; return 0
    fi
    # Ours but not answering yet: most likely still starting (a concurrent `start`). Wait for
    # it rather than launching a second server on the same data.
    say "pid $pid is running but CQL is not answering yet; waiting"
    wait_until_ready "$pid" || fail_start
    say "ready"; echo "$host:$cql_port"; return 0
  fi
  rm -f "$pid_file"

  local port
  for port in "$cql_port" "$storage_port" ${jmx_port:+"$jmx_port"}; do
    ! port_in_use "$port" || die "port $port on $host is taken by another process; set LAMINA_CASSANDRA_*PORT"
  done

  local java; java="$(find_java)"
  ensure_classpath
  write_config
  local started; started="$(now_ms)"
  launch "$java"
  pid="$(cat "$pid_file")"
  say "starting (pid $pid, log $log_file)..."
  wait_until_ready "$pid" || fail_start
  say "ready in $(seconds_since "$started")s"
  echo "$host:$cql_port"
}

cmd_stop() {
  local pid; pid="$(running_pid)"
  if [ -z "$pid" ]; then
    rm -f "$pid_file"
    say "not running"; return 0
  fi
  local started; started="$(now_ms)"
  terminate "$pid"
  rm -f "$pid_file"
  say "stopped (pid $pid) in $(seconds_since "$started")s"
}

cmd_status() {
  local pid; pid="$(running_pid)"
  if [ -n "$pid" ] && cql_ready; then
    echo "$host:$cql_port"; return 0
  fi
  if [ -n "$pid" ]; then say "pid $pid is running but CQL is not answering"; else say "not running"; fi
  return 1
}

cmd_wipe() {
  cmd_stop
  local d
  for d in "${data_dirs[@]}" conf; do rm -rf "${state_dir:?}/$d"; done
  rm -f "$log_file" "$log_file.1"
  say "wiped the data in $state_dir (the cached classpath is kept)"
}

case "${1:-}" in
  start) lock; cmd_start ;;
  stop) lock; if [ "${2:-}" = --wipe ]; then cmd_wipe; else cmd_stop; fi ;;
  status) cmd_status ;;
  wipe) lock; cmd_wipe ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
