#!/bin/sh
# Writes how nginx reaches the app: an upstream block with a pool of keep-alive connections to
# the replicas that serve, kept in step with the replicas as they come, go and drain.
#
# Docker's embedded DNS (127.0.0.11) answers the app's name with every replica's address. On
# nginx before 1.27.3, which resolves an upstream's names once, a watcher started here looks
# every WATCH_INTERVAL seconds: it resolves the name, asks each address for /readyz, and keeps
# in the pool every address that answers, except one that refuses connections (not listening
# yet: starting, or crashed) or says it is draining (it got SIGTERM and will stop:
# docs/design.md). When that set changed it rewrites the block and reloads nginx gracefully.
# Requests reuse connections to the app instead of opening one each.
set -eu
APP_HOST=${APP_HOST:-app}
APP_PORT=${APP_PORT:-8000}
WATCH_INTERVAL=${WATCH_INTERVAL:-2}
JOIN_WAIT=${JOIN_WAIT:-10}
UPSTREAM=/etc/nginx/conf.d/board-upstream.conf
mkdir -p /etc/nginx/board
echo "proxy_pass http://board_app;" > /etc/nginx/board/proxy_pass.conf
version=$(nginx -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')

# nginx 1.27.3 and newer re-resolve an upstream server's name themselves (`resolve`), with no
# reload, so their clients' keep-alive connections are never closed by a change of replicas. A
# replica joins when it is in Docker's DNS (from its start: until it listens nginx gets refused
# connections and passes even a POST on, as it never reached one) and leaves when it stops;
# while it drains it answers with Connection: close, so nginx holds no idle connection to it.
newest=$(printf '%s\n%s\n' "$version" 1.27.3 | sort -t. -k1,1n -k2,2n -k3,3n | tail -n 1)
if [ "$newest" = "$version" ]; then
  cat > "$UPSTREAM" <<CONF
resolver ${RESOLVER:-127.0.0.11} valid=5s ipv6=off;
upstream board_app {
    zone board_app 64k;
    server $APP_HOST:$APP_PORT resolve max_fails=0;
    keepalive 32;
    keepalive_timeout 4s;
}
CONF
  echo "40-board-upstream: nginx $version: upstream pool with keepalive, re-resolving $APP_HOST"
  exit 0
fi

# Older nginx (Debian's 1.22, in the stand-in) resolves names once: the watcher below.
# Whether the replica at $1 belongs in the pool: it accepts a connection and its /readyz does
# not say "draining". A slow answer (busy, or Postgres away) keeps it: only the replica can tell.
serves() {
  answer=$(timeout 2 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 3
    printf "GET /readyz HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" >&3
    cat <&3' "$1" "$APP_PORT" "$APP_HOST" 2>/dev/null) && rc=0 || rc=$?
  case "$rc" in
    0) case "$answer" in *draining*) return 1 ;; *) return 0 ;; esac ;;
    124) return 0 ;;
    *) return 1 ;;
  esac
}

replicas() {
  for addr in $(getent ahostsv4 "$APP_HOST" 2>/dev/null | awk '{print $1}' | sort -u); do
    if serves "$addr"; then printf '%s ' "$addr"; fi
  done
}

write_upstream() { # write_upstream "ADDR ADDR ..."
  {
    echo "# Written by 40-board-upstream.sh from the addresses of $APP_HOST: $1"
    echo "upstream board_app {"
    if [ -n "$1" ]; then
      for addr in $1; do echo "    server $addr:$APP_PORT max_fails=1 fail_timeout=5s;"; done
    else
      # Nothing serves yet: every request gets the "back in a moment" page until one does.
      echo "    server 127.0.0.1:$APP_PORT down;"
    fi
    echo "    keepalive 32;"
    echo "    keepalive_timeout 4s;"
    echo "}"
  } > "$UPSTREAM.new"
  mv "$UPSTREAM.new" "$UPSTREAM"
}

current=$(replicas)
write_upstream "$current"
echo "40-board-upstream: nginx $version: upstream pool with keepalive to: ${current:-nothing yet}; watching $APP_HOST every ${WATCH_INTERVAL}s"
# True when every address of $1 is in $2: the change only adds replicas.
only_adds() {
  for addr in $1; do
    case " $2 " in *" $addr "*) ;; *) return 1 ;; esac
  done
}

(
  waited=0
  while sleep "$WATCH_INTERVAL"; do
    found=$(replicas)
    # A failed lookup (DNS hiccup), or no replica serving, keeps the last set rather than
    # emptying the pool: nginx then tries them itself (proxy_next_upstream).
    if [ -z "$found" ] || [ "$found" = "$current" ]; then
      waited=0
      continue
    fi
    # Each reload closes the idle keep-alive connections of nginx's clients, and a client that
    # sends on one just then gets no answer (HTTP/1.1 has no graceful close). So a replica
    # that only joins waits up to JOIN_WAIT seconds for a change that must reload anyway (in a
    # rollout, its old replica starting to drain): one reload per replaced replica, not two.
    if [ -n "$current" ] && only_adds "$current" "$found" && [ "$waited" -lt "$JOIN_WAIT" ]; then
      waited=$((waited + WATCH_INTERVAL))
      continue
    fi
    write_upstream "$found"
    if nginx -t -q 2>/dev/null && nginx -s reload 2>/dev/null; then
      echo "40-board-upstream: replicas of $APP_HOST now: $found(nginx reloaded)"
      current=$found
      waited=0
    fi
  done
) &
