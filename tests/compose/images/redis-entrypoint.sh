#!/bin/sh
# As the official image's entrypoint: no config file given -> protected mode off.
if [ "$1" = "redis-server" ]; then
    case "${2:-}" in
        *.conf) ;;
        *) shift; set -- redis-server --protected-mode no "$@" ;;
    esac
fi
exec "$@"
