#!/bin/sh
# `b24local serve` on every interface with its data in the /data volume, plus the
# options in B24LOCAL_ARGS (split on spaces) and the container's arguments.
set -eu
# shellcheck disable=SC2086  # B24LOCAL_ARGS is split into words on purpose
exec b24local serve --host 0.0.0.0 --data-dir /data ${B24LOCAL_ARGS:-} "$@"
