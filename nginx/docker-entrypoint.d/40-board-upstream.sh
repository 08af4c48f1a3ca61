#!/bin/sh
# Writes how nginx reaches the app: an upstream block with a pool of keep-alive connections to
# the replicas that serve, kept in step with the replicas as they come, go and drain.
#
# Docker's embedded DNS (127.0.0.11) answers the app's name with every replica's address, but
# nginx resolves an upstream's names once (and even 1.27.3's `resolve` knows nothing of a
# replica that is draining), so a watcher started here looks every WATCH_INTERVAL seconds: it
# resolves the name, asks each address for /readyz, and keeps in the pool every address that
# answers, except one that refuses connections (not listening yet: starting, or crashed) or
# says it is draining (it got SIGTERM and will stop: docs/design.md). When that set changed it
# rewrites the block and reloads nginx gracefully. Requests reuse connections to the app
# instead of opening one each.
set -eu
APP_HOST=${APP_HOST:-app}
APP_PORT=${APP_PORT:-8000}
WATCH_INTERVAL=${WATCH_INTERVAL:-2}
UPSTREAM=/etc/nginx/conf.d/board-upstream.conf
mkdir -p /etc/nginx/board
echo "proxy_pass http://board_app;" > /etc/nginx/board/proxy_pass.conf
version=$(nginx -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')

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
(
  while sleep "$WATCH_INTERVAL"; do
    found=$(replicas)
    # A failed lookup (DNS hiccup), or no replica serving, keeps the last set rather than
    # emptying the pool: nginx then tries them itself (proxy_next_upstream).
    if [ -n "$found" ] && [ "$found" != "$current" ]; then
      write_upstream "$found"
      if nginx -t -q 2>/dev/null && nginx -s reload 2>/dev/null; then
        echo "40-board-upstream: replicas of $APP_HOST now: $found(nginx reloaded)"
        current=$found
      fi
    fi
  done
) &
