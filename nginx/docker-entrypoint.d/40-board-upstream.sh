#!/bin/sh
# Writes how nginx reaches the app. nginx 1.27.3 and newer re-resolve an upstream server's name
# (`resolve`) and keep a pool of keep-alive connections to each replica. Older nginx (Debian's
# 1.22, in the stand-in image) re-resolves only a name in a variable, so there the proxy goes
# through one, without the pool. Docker's embedded DNS (127.0.0.11) answers with every replica.
set -eu
APP_HOST=${APP_HOST:-app}
APP_PORT=${APP_PORT:-8000}
RESOLVER=${RESOLVER:-127.0.0.11}
mkdir -p /etc/nginx/board
version=$(nginx -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')
newest=$(printf '%s\n%s\n' "$version" 1.27.3 | sort -t. -k1,1n -k2,2n -k3,3n | tail -n 1)
if [ "$newest" = "$version" ]; then
  cat > /etc/nginx/conf.d/board-upstream.conf <<CONF
resolver $RESOLVER valid=5s ipv6=off;
upstream board_app {
    zone board_app 64k;
    server $APP_HOST:$APP_PORT resolve max_fails=0;
    keepalive 32;
}
CONF
  echo "proxy_pass http://board_app;" > /etc/nginx/board/proxy_pass.conf
  echo "40-board-upstream: nginx $version: upstream pool with keepalive, re-resolving $APP_HOST"
else
  cat > /etc/nginx/conf.d/board-upstream.conf <<CONF
resolver $RESOLVER valid=5s ipv6=off;
CONF
  cat > /etc/nginx/board/proxy_pass.conf <<CONF
set \$board_app http://$APP_HOST:$APP_PORT;
proxy_pass \$board_app;
CONF
  echo "40-board-upstream: nginx $version: re-resolving $APP_HOST per request (no upstream pool before 1.27.3)"
fi
