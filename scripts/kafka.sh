#!/usr/bin/env bash
# Runs a throwaway single-node Apache Kafka broker (KRaft) on 127.0.0.1 for tests.
#
#   scripts/kafka.sh fetch     download the pinned broker jars from Maven Central (cached)
#   scripts/kafka.sh start     fetch, format a fresh log dir, start, wait until it answers
#   scripts/kafka.sh stop      stop the broker started by "start"
#   scripts/kafka.sh status    exit 0 when the broker answers
#
# Environment: KAFKA_PORT (default 19092), KAFKA_CACHE (default ~/.cache/tipline/kafka),
# KAFKA_STATE (default /tmp/tipline-kafka-$KAFKA_PORT).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
port=${KAFKA_PORT:-19092}
ctrl=$((port + 1))
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")
cache=${KAFKA_CACHE:-$HOME/.cache/tipline/kafka}/$version
state=${KAFKA_STATE:-/tmp/tipline-kafka-$port}

fetch() {
  if [ -f "$cache/.complete" ]; then return; fi
  echo "kafka.sh: fetching Apache Kafka $version from Maven Central into $cache" >&2
  mkdir -p "$cache"
  mvn -q -B -f "$here/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$cache" -DincludeScope=runtime >&2
  touch "$cache/.complete"
}

java_cmd() {
  java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$state/log4j2.properties" \
    -cp "$cache/*" "$@"
}

answers() {
  # The broker answers when a TCP connection to its port succeeds and metadata can be read;
  # a bare TCP probe is enough here because the port opens only after the broker is ready.
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

start() {
  fetch
  if answers; then echo "kafka.sh: something already listens on 127.0.0.1:$port" >&2; exit 1; fi
  rm -rf "$state"
  mkdir -p "$state/logs"
  cat >"$state/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$ctrl
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctrl
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$state/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
  cat >"$state/log4j2.properties" <<PROPS
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
appender.file.type=File
appender.file.name=file
appender.file.fileName=$state/logs/server.log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
PROPS
  java_cmd kafka.tools.StorageTool format -t "tipline-test-$port" \
    -c "$state/server.properties" >"$state/logs/format.log" 2>&1 ||
    { cat "$state/logs/format.log" >&2; exit 1; }
  nohup java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$state/log4j2.properties" \
    -cp "$cache/*" kafka.Kafka "$state/server.properties" >"$state/logs/stdout.log" 2>&1 &
  echo $! >"$state/pid"
  for _ in $(seq 1 120); do
    if answers; then echo "kafka.sh: Apache Kafka $version answers on 127.0.0.1:$port (pid $(cat "$state/pid"))" >&2; return; fi
    if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then
      echo "kafka.sh: broker exited during start:" >&2; tail -40 "$state/logs/stdout.log" "$state/logs/server.log" >&2 || true; exit 1
    fi
    sleep 0.5
  done
  echo "kafka.sh: broker did not answer within 60s" >&2; tail -40 "$state/logs/server.log" >&2 || true; exit 1
}

stop() {
  [ -f "$state/pid" ] || return 0
  pid=$(cat "$state/pid")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$state/pid"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) answers ;;
  *) echo "usage: $0 fetch|start|stop|status" >&2; exit 2 ;;
esac
