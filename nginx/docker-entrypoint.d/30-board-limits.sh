#!/bin/sh
# Writes nginx's limit on posts per client address, across every replica behind it.
#
# NGINX_POST_RATE (default 30r/m) and NGINX_POST_BURST (default 15) sit a little above the
# app's own default (20 a minute in bursts of 10, per replica), so that with one replica a
# person meets the app's 429 page, which keeps their text; nginx's is the cap when several
# replicas share the load. Only POST counts: reading the board is never limited.
set -eu
RATE=${NGINX_POST_RATE:-30r/m}
BURST=${NGINX_POST_BURST:-15}
case "$RATE" in
  *r/s|*r/m) ;;
  *) echo "30-board-limits: NGINX_POST_RATE must look like 30r/m or 5r/s, not $RATE" >&2; exit 1 ;;
esac
case "$BURST" in
  ''|*[!0-9]*) echo "30-board-limits: NGINX_POST_BURST must be a whole number, not $BURST" >&2; exit 1 ;;
esac
mkdir -p /etc/nginx/board
cat > /etc/nginx/conf.d/board-limits.conf <<CONF
map \$request_method \$board_post_client {
    POST    \$binary_remote_addr;
    default "";
}
limit_req_zone \$board_post_client zone=board_posts:10m rate=$RATE;
CONF
echo "limit_req zone=board_posts burst=$BURST nodelay;" > /etc/nginx/board/limit_req.conf
echo "30-board-limits: posts limited to $RATE per address, bursts of $BURST"
