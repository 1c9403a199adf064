#!/usr/bin/env bash
# Builds, from Debian's packages, the images the deploy tests use where a registry's would go
# (no image registry is reachable here), and prints their names, one a line:
#   python    Debian bookworm made with debootstrap (python3, python3-venv, ca-certificates)
#             carrying this host's CA bundle and pip settings (a proxy's CA), for BASE_IMAGE
#   postgres  PostgreSQL 15 on it (images/postgres: the official image's environment contract)
#   redis     Redis on it (images/redis)
# Each is tagged with a hash of what it is made from and built only when podman's storage
# (kept between runs) lacks it, so a warm run costs seconds; older tags are removed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="${CONTAINERS_CONF:-$here/containers.conf}"
BASE_PACKAGES=python3,python3-venv,ca-certificates
HOST_CA=/etc/ssl/certs/ca-certificates.crt

log() { echo "build_base_images: $*" >&2; }
digest() { sha256sum | cut -c1-12; }

# pip settings a build needs to reach the index from here (a local file:// index would not
# exist inside the image): the host's index, proxy and timeout, and the CA bundle copied in.
pip_conf() {
    echo "[global]"
    echo "cert = /etc/ssl/certs/ca-certificates.crt"
    { python3 -m pip config list 2>/dev/null || true; } \
        | sed -n "s/^[a-z:]*\.\(index-url\|extra-index-url\|proxy\|trusted-host\|default-timeout\|timeout\)='\(.*\)'$/\1 = \2/p" \
        | grep -v 'file://' || true
}

# Remove older tags of REPOSITORY than TAG (what a changed recipe left behind).
prune() {
    podman images --format '{{.Repository}}:{{.Tag}}' | grep "^$1:" | grep -vx "$1:$2" \
        | xargs -r podman rmi -f >/dev/null 2>&1 || true
}

build_python() {
    local pipconf tag image rootfs
    pipconf=$(pip_conf)
    tag=$( { echo "bookworm $BASE_PACKAGES v1"; cat "$HOST_CA"; echo "$pipconf"; } | digest)
    image="localhost/parlor-deploy-python:$tag"
    if ! podman image exists "$image"; then
        log "debootstrap of Debian bookworm (a minute or two)"
        rootfs=$(mktemp -d /var/tmp/parlor-rootfs.XXXXXX)
        trap 'rm -rf "$rootfs" "$rootfs.log"' EXIT
        if ! debootstrap --variant=minbase --include="$BASE_PACKAGES" bookworm "$rootfs" \
                >"$rootfs.log" 2>&1; then
            tail -n 30 "$rootfs.log" >&2
            exit 1
        fi
        install -m 0644 "$HOST_CA" "$rootfs/etc/ssl/certs/ca-certificates.crt"
        # Kept through any later update-ca-certificates (an apt-get install in a derived image).
        install -m 0644 "$HOST_CA" "$rootfs/usr/local/share/ca-certificates/host-bundle.crt"
        echo "$pipconf" > "$rootfs/etc/pip.conf"
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        tar -C "$rootfs" -c . | podman import --quiet \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            --change 'ENV LANG=C.UTF-8' --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
        prune localhost/parlor-deploy-python "$tag"
    fi
    echo "$image"
}

# build_service NAME BASE: images/NAME/ built FROM BASE.
build_service() {
    local name=$1 base=$2 tag image
    tag=$( { echo "$base"; cat "$here/images/$name"/*; } | digest)
    image="localhost/parlor-deploy-$name:$tag"
    if ! podman image exists "$image"; then
        log "building the $name image from Debian's packages"
        podman build --quiet --network host --build-arg "BASE_IMAGE=$base" \
            -t "$image" "$here/images/$name" >/dev/null
        prune "localhost/parlor-deploy-$name" "$tag"
    fi
    echo "$image"
}

python_image=$(build_python)
echo "$python_image"
build_service postgres "$python_image"
build_service redis "$python_image"
