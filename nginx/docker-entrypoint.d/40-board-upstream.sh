#!/bin/sh
# Writes how nginx reaches the app: an upstream block with a pool of keep-alive connections to
# every replica, kept in step with the replicas as they come and go. Docker's embedded DNS
# (127.0.0.11) answers the app's name with every replica's address.
#
# - nginx 1.27.3 and newer re-resolve an upstream server's name themselves (`resolve`).
# - Older nginx (Debian's 1.22, in the stand-in image) resolves an upstream's names once, so
#   the addresses are written into the block, and a watcher started here re-resolves the name
#   every WATCH_INTERVAL seconds and reloads nginx (gracefully) when the set changed.
# Either way requests reuse connections to the app instead of opening one each (docs/design.md).
set -eu
APP_HOST=${APP_HOST:-app}
APP_PORT=${APP_PORT:-8000}
RESOLVER=${RESOLVER:-127.0.0.11}
WATCH_INTERVAL=${WATCH_INTERVAL:-2}
UPSTREAM=/etc/nginx/conf.d/board-upstream.conf
mkdir -p /etc/nginx/board
echo "proxy_pass http://board_app;" > /etc/nginx/board/proxy_pass.conf
version=$(nginx -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')
newest=$(printf '%s\n%s\n' "$version" 1.27.3 | sort -t. -k1,1n -k2,2n -k3,3n | tail -n 1)

# The app's keep-alive timeout is 5 s: nginx lets an idle connection go before the app does.
if [ "$newest" = "$version" ]; then
  cat > "$UPSTREAM" <<CONF
resolver $RESOLVER valid=5s ipv6=off;
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

replicas() {
  getent ahostsv4 "$APP_HOST" 2>/dev/null | awk '{print $1}' | sort -u | tr '\n' ' '
}

write_upstream() { # write_upstream "ADDR ADDR ..."
  {
    echo "# Written by 40-board-upstream.sh from the addresses of $APP_HOST: $1"
    echo "upstream board_app {"
    if [ -n "$1" ]; then
      for addr in $1; do echo "    server $addr:$APP_PORT max_fails=1 fail_timeout=5s;"; done
    else
      # Not resolvable yet: every request gets the "back in a moment" page until it is.
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
    # A failed lookup (DNS hiccup) keeps the last set rather than emptying the pool.
    if [ -n "$found" ] && [ "$found" != "$current" ]; then
      write_upstream "$found"
      if nginx -t -q 2>/dev/null && nginx -s reload 2>/dev/null; then
        echo "40-board-upstream: replicas of $APP_HOST now: $found(nginx reloaded)"
        current=$found
      fi
    fi
  done
) &
