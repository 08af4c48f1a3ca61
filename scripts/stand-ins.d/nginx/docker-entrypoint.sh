#!/bin/sh
# As the official nginx image: run /docker-entrypoint.d/*.sh, then nginx.
set -e
if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
  for script in /docker-entrypoint.d/*.sh; do
    [ -x "$script" ] && "$script"
  done
fi
exec "$@"
