#!/usr/bin/env bash
# A local Lamina cluster on loopback: a real Cassandra server and N node JVMs, each with its own
# API port, cluster port and data directory. Used through the `lamina` wrapper:
#   ./lamina cluster up [N]        start Cassandra (if needed) and N nodes (default 3); prints the endpoints
#   ./lamina cluster status        each node's /ready answer
#   ./lamina cluster down [--keep-cassandra]   stop the nodes gracefully (SIGTERM), then Cassandra
# The nodes share one access key, generated on the first `up` into <state>/credentials (an AWS
# shared-credentials file, kept across ups and downs) and printed; requests must be signed with it.
# Settings (environment):
#   LAMINA_CLUSTER_DIR        state: data directories, logs, pid files (default <repo>/.lamina-cluster)
#   LAMINA_CLUSTER_API_PORT   API port of node 1; node i listens on +i-1 (default 9001)
#   LAMINA_CLUSTER_PORT       cluster port of node 1; node i uses +i-1 (default 25521)
#   LAMINA_CASSANDRA_PORT     Cassandra's CQL port (default 9142), as for tools/cassandra/cassandra.sh
#   LAMINA_NODE_HEAP          -Xmx of each node (default 1g)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${LAMINA_CLUSTER_DIR:-$here/.lamina-cluster}"
api_base="${LAMINA_CLUSTER_API_PORT:-9001}"
cluster_base="${LAMINA_CLUSTER_PORT:-25521}"
cassandra_port="${LAMINA_CASSANDRA_PORT:-9142}"
heap="${LAMINA_NODE_HEAP:-1g}"
ready_limit=120   # seconds a node may take to become ready

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

credentials_file="$state/credentials"

# The cluster's key pair: made once (like a node's own: LKIA + 16 base32 characters, a 40-character
# base64 secret), owner-only. A file already there is kept, whoever wrote it.
ensure_credentials() {
  [ -f "$credentials_file" ] && return
  local id secret
  id="LKIA$(head -c 10 /dev/urandom | base32)"   # 80 bits: 16 characters, no padding
  secret="$(head -c 30 /dev/urandom | base64 | tr -d '\n')"
  (umask 077 && printf '# Lamina cluster access key (AWS shared-credentials format). Keep it secret.\n[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
      "$id" "$secret" >"$credentials_file")
}

credential() {   # credential aws_access_key_id|aws_secret_access_key: its value in the [default] profile
  sed -n "s/^$1 *= *//p" "$credentials_file" | head -n 1
}

# The node's classpath, built by the `lamina` wrapper before it calls this script.
classpath() {
  echo "$here/cluster-node/target/lamina-cluster-node-0.1.0-SNAPSHOT.jar:$(cat "$here/cluster-node/target/node.classpath")"
}

ready() {   # ready <api port>: 0 when the node answers /ready with 200
  curl -fsS -o /dev/null --max-time 3 "http://127.0.0.1:$1/ready" 2>/dev/null
}

start_node() {   # start_node <i>: starts node i in the background
  local i="$1" api=$((api_base + $1 - 1)) port=$((cluster_base + $1 - 1))
  local dir="$state/node-$i"
  mkdir -p "$dir"
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "node $i already runs (pid $(cat "$dir/pid"))"
    return
  fi
  # Every node lists node 1 as its seed: node 1 forms the cluster, the others join it.
  setsid java ${LAMINA_JAVA_OPTS:-} "-Xmx$heap" -cp "$(classpath)" dev.lamina.node.cli.Main serve \
      --profile=cluster --credentials-file="$credentials_file" --data-dir="$dir/data" --port="$api" --cluster-port="$port" \
      --seed="127.0.0.1:$cluster_base" --cassandra="127.0.0.1:$cassandra_port" \
      >"$dir/node.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
}

await_ready() {   # await_ready <i>
  local i="$1" api=$((api_base + $1 - 1)) waited=0
  local pid; pid="$(cat "$state/node-$i/pid")"
  until ready "$api"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "node $i exited before it was ready; its log ends with:" >&2
      tail -n 40 "$state/node-$i/node.log" >&2
      return 1
    fi
    if [ "$waited" -ge $((ready_limit * 5)) ]; then
      echo "node $i was not ready within ${ready_limit}s; its log ends with:" >&2
      tail -n 40 "$state/node-$i/node.log" >&2
      return 1
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
}

up() {
  local n="${1:-3}"
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || usage
  local began=$SECONDS
  mkdir -p "$state"
  echo "$n" >"$state/size"
  ensure_credentials
  "$here/tools/cassandra/cassandra.sh" start
  # Node 1 first: it forms the cluster and creates the keyspaces; the others then join at once.
  start_node 1
  await_ready 1
  for ((i = 2; i <= n; i++)); do start_node "$i"; done
  for ((i = 2; i <= n; i++)); do await_ready "$i"; done
  echo "Lamina cluster of $n nodes up in $((SECONDS - began)) s (Cassandra 127.0.0.1:$cassandra_port):"
  for ((i = 1; i <= n; i++)); do
    echo "  node $i: API http://127.0.0.1:$((api_base + i - 1))  cluster 127.0.0.1:$((cluster_base + i - 1))  log $state/node-$i/node.log"
  done
  echo "Requests must be signed with the cluster's key ($credentials_file):"
  echo "  export AWS_ACCESS_KEY_ID=$(credential aws_access_key_id) AWS_SECRET_ACCESS_KEY=$(credential aws_secret_access_key) AWS_DEFAULT_REGION=us-east-1"
  echo "Any node takes any request, e.g.: aws lambda list-functions --endpoint-url http://127.0.0.1:$api_base"
}

status() {
  local found=0
  for dir in "$state"/node-*; do
    [ -d "$dir" ] || continue
    found=1
    local i="${dir##*-}" api=$((api_base + ${dir##*-} - 1))
    if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      if ready "$api"; then echo "node $i: ready (http://127.0.0.1:$api)"; else echo "node $i: running, not ready"; fi
    else
      echo "node $i: stopped"
    fi
  done
  [ "$found" = 1 ] || echo "no local cluster under $state"
}

down() {
  local pids=()
  for dir in "$state"/node-*; do
    [ -f "$dir/pid" ] || continue
    local pid; pid="$(cat "$dir/pid")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"   # graceful leave: shards hand over, sandboxes stop
      pids+=("$pid")
    fi
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "node pid $pid did not stop within 60 s: killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  rm -f "$state"/node-*/pid
  echo "stopped ${#pids[@]} node(s)"
  if [ "${1:-}" != "--keep-cassandra" ]; then
    "$here/tools/cassandra/cassandra.sh" stop
  fi
}

case "${1:-}" in
  up) shift; up "$@" ;;
  status) status ;;
  down) shift; down "$@" ;;
  *) usage ;;
esac
