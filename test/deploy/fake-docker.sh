#!/usr/bin/env bash
# A stand-in for `docker` in backup/restore tests: named volumes are directories under
# $FAKE_ROOT/volumes, the database is $FAKE_ROOT/db.dump, and every call is logged.
set -euo pipefail
echo "docker $*" >>"$FAKE_ROOT/calls.log"
vol() { echo "$FAKE_ROOT/volumes/${1%%:*}"; }
case "$1 $2" in
  "compose exec")
    shift 4 # compose exec -T postgres
    case "$1" in
      pg_dump) cat "$FAKE_ROOT/db.dump" ;;
      psql) echo "${FAKE_TABLES:-0}" ;;
      pg_restore) cat >"$FAKE_ROOT/restored.dump" ;;
      *) exit 9 ;;
    esac ;;
  "compose ps") [ "${FAKE_RUNNING:-}" = "${*: -1}" ] && echo "0123abcd" || true ;;
  "compose create") mkdir -p "$FAKE_ROOT/volumes/${COMPOSE_PROJECT_NAME}_signer-data" "$FAKE_ROOT/volumes/${COMPOSE_PROJECT_NAME}_edge-data" ;;
  "compose up") ;;
  "run --rm")
    # run --rm [-i] --network none -v VOLUME:/mnt[:ro] IMAGE cmd...
    shift 2
    [ "$1" = "-i" ] && shift
    shift 2 # --network none
    dir="$(vol "$2")"; mnt="$(echo "$2" | cut -d: -f2)"; shift 3 # -v spec image
    if [ "$1" = "cat" ]; then cat "$dir/${2#"$mnt"/}"
    else script="${3//$mnt/$dir}"; shift 3; sh -euc "$script" "$@"
    fi ;;
  *) echo "fake docker: unexpected $*" >&2; exit 9 ;;
esac
