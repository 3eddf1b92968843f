#!/usr/bin/env bash
# Restores a backup made by backup.sh onto this Pi (a new one, or this one after a loss):
# the database from the dump, the encrypted keystore, journal and onion key into their volumes.
# tronpay's own services must be stopped; postgres is started if needed. Nothing is decrypted.
#   deploy/pi/restore.sh BACKUP_DIR [--force]
# --force replaces a keystore or database that is already there.
set -euo pipefail

cd "$(dirname "$0")"
PROJECT="${COMPOSE_PROJECT_NAME:-$(sed -n 's/^COMPOSE_PROJECT_NAME=//p' .env 2>/dev/null || true)}"
PROJECT="${PROJECT:-pi}"
HELPER_IMAGE="${TRONPAY_BACKUP_HELPER_IMAGE:-postgres:16-alpine}"
SRC="${1:?usage: restore.sh BACKUP_DIR [--force]}"
FORCE="${2:-}"

die() { echo "restore: $*" >&2; exit 1; }

# Writes stdin to FILE in the named volume VOLUME, owned by the tronpay user (65532), mode 0600.
# Refuses to replace an existing file unless --force.
into_volume() {
  docker run --rm -i --network none -v "${PROJECT}_$1:/to" "$HELPER_IMAGE" sh -euc '
    if [ -e "/to/$1" ] && [ "$2" != "--force" ]; then echo "exists: $1" >&2; exit 3; fi
    chown 65532:65532 /to && chmod 0700 /to
    cat >"/to/$1.tmp" && chown 65532:65532 "/to/$1.tmp" && chmod 0600 "/to/$1.tmp"
    mv "/to/$1.tmp" "/to/$1"' sh "$2" "$FORCE"
}

SRC="$(cd "$SRC" && pwd)"
(cd "$SRC" && sha256sum -c --quiet SHA256SUMS) || die "checksums do not match; not restoring"
[ -s "$SRC/tronpay.dump" ] && [ -s "$SRC/keystore.age" ] || die "tronpay.dump or keystore.age missing"

for s in core signer edge tor; do
  [ -z "$(docker compose ps -q --status running "$s")" ] || die "$s is running; run: docker compose stop core signer edge tor"
done

echo "restore: volumes"
docker compose create signer edge >/dev/null
into_volume signer-data keystore.age <"$SRC/keystore.age" || die "keystore exists (use --force to replace it)"
into_volume signer-data journal.log <"$SRC/journal.log" || die "journal exists (use --force to replace it)"
if [ -f "$SRC/onion_ed25519_v3.key" ]; then
  into_volume edge-data onion_ed25519_v3.key <"$SRC/onion_ed25519_v3.key" || die "onion key exists (use --force)"
fi

echo "restore: database"
docker compose up -d --wait postgres
tables="$(docker compose exec -T postgres psql -U tronpay -d tronpay -Atc \
  "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")"
if [ "${tables//[[:space:]]/}" != "0" ] && [ "$FORCE" != "--force" ]; then
  die "the database has tables already (use --force to replace them)"
fi
docker compose exec -T postgres pg_restore -U tronpay -d tronpay --clean --if-exists --no-owner \
  --exit-on-error <"$SRC/tronpay.dump"

echo "restore: done. Start tronpay with: docker compose up -d"
