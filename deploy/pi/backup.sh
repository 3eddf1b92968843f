#!/usr/bin/env bash
# Backs up a tronpay Pi: a pg_dump of the database, the signer's keystore exactly as it rests
# (age-encrypted; this script never decrypts it and never reads the passphrase), the signer's
# journal and the onion service key. Run from anywhere, as a user that may use docker:
#   deploy/pi/backup.sh [DEST_DIR]          (default: ./tronpay-backup-<UTC time>)
# Keep the passphrase somewhere else: a backup that holds both is a plaintext key.
set -euo pipefail
umask 077

cd "$(dirname "$0")"
PROJECT="${COMPOSE_PROJECT_NAME:-$(sed -n 's/^COMPOSE_PROJECT_NAME=//p' .env 2>/dev/null || true)}"
PROJECT="${PROJECT:-pi}"
# An image that is on the Pi already and has a shell, to read volumes without starting tronpay.
HELPER_IMAGE="${TRONPAY_BACKUP_HELPER_IMAGE:-postgres:16-alpine}"
DEST="${1:-$PWD/tronpay-backup-$(date -u +%Y%m%dT%H%M%SZ)}"

die() { echo "backup: $*" >&2; exit 1; }

# Prints the file at PATH inside the named volume VOLUME to stdout (the volume mounted read-only,
# no network); fails when it is missing.
volume_file() {
  docker run --rm --network none -v "${PROJECT}_$1:/from:ro" "$HELPER_IMAGE" cat "/from/$2"
}

[ -e "$DEST" ] && die "$DEST exists; choose a new directory"
mkdir -p "$DEST"

echo "backup: database"
docker compose exec -T postgres pg_dump -U tronpay -d tronpay --format=custom >"$DEST/tronpay.dump" \
  || die "pg_dump failed (is postgres running?)"
[ -s "$DEST/tronpay.dump" ] || die "pg_dump wrote nothing"

echo "backup: signer keystore (encrypted, copied as is) and journal"
volume_file signer-data keystore.age >"$DEST/keystore.age" || die "no keystore in ${PROJECT}_signer-data"
case "$(head -c 21 "$DEST/keystore.age")" in
  "age-encryption.org/v1" | "-----BEGIN AGE ENCRYP") ;;
  *) die "keystore.age is not an age file; refusing to keep it" ;;
esac
volume_file signer-data journal.log >"$DEST/journal.log" || : >"$DEST/journal.log"

echo "backup: onion service key (keeps the .onion address)"
volume_file edge-data onion_ed25519_v3.key >"$DEST/onion_ed25519_v3.key" \
  || rm -f "$DEST/onion_ed25519_v3.key"

(cd "$DEST" && sha256sum -- * >SHA256SUMS)
echo "backup: done, $DEST"
ls -l "$DEST"
