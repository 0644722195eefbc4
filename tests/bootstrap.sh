#!/usr/bin/env bash
# Test set-up, run before pytest (README: `bash tests/bootstrap.sh && python3 -m pytest`).
# Installs what the suite needs from Debian when it is missing -- a PostgreSQL server
# (initdb/pg_ctl), headless Chromium and a CJK font for it, zsh and fish (completion tests) --
# then the project with its
# test extra. Idempotent, silent when everything is already there, one line when it
# installs; on failure it prints the apt/pip output. Not root and something missing:
# prints the command to run and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Debian packages; the CJK font is WenQuanYi Micro Hei (5 MB installed, simplified and
# traditional Chinese) rather than fonts-noto-cjk (91 MB).
PG_PKG=postgresql
CHROMIUM_PKG=chromium
CJK_FONT_PKG=fonts-wqy-microhei

have_postgres() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x $d/initdb && -x $d/pg_ctl ]] && break
        d=
    done
    [[ -n ${d:-} ]] || { command -v initdb && command -v pg_ctl; } >/dev/null 2>&1 || return 1
    # As root the server runs as the `postgres` user, which the Debian package creates.
    [[ $(id -u) -ne 0 ]] || id -u postgres >/dev/null 2>&1
}

have_cjk_font() {
    command -v fc-list >/dev/null 2>&1 && [[ -n $(fc-list :lang=zh family 2>/dev/null) ]]
}

missing=()
have_postgres || missing+=("$PG_PKG")
[[ -x /usr/bin/chromium ]] || missing+=("$CHROMIUM_PKG")
have_cjk_font || missing+=("$CJK_FONT_PKG")
# The shells whose completion scripts tests/test_cli_completion.py loads (bash is always here).
for shell in zsh fish; do command -v "$shell" >/dev/null 2>&1 || missing+=("$shell"); done

if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "tests/bootstrap.sh: missing Debian packages: ${missing[*]}" >&2
        echo "install them as root, then run this again:" >&2
        echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
        exit 1
    fi
    echo "tests/bootstrap.sh: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    log=$(mktemp)
    added_policy=
    cleanup() {
        rm -f "$log"
        [[ -z $added_policy ]] || rm -f /usr/sbin/policy-rc.d
    }
    trap cleanup EXIT
    # Don't let the package scripts start services (the postgresql package would start a
    # server on port 5432 that the tests don't use); Docker images already have this file.
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        added_policy=1
    fi
    apt_q=(-q -o Dpkg::Use-Pty=0)
    apt_update() { apt-get "${apt_q[@]}" update >>"$log" 2>&1; }
    apt_install() {
        apt-get "${apt_q[@]}" install -y --no-install-recommends "${missing[@]}" >>"$log" 2>&1
    }
    # `apt-get update` only when needed: no package lists, lists older than a day (the
    # archive has moved on and downloads would 404), or a package without a candidate.
    updated=
    need_update=
    if [[ -z $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null) ]]; then
        need_update=1
    else
        for p in "${missing[@]}"; do
            cand=$(apt-cache policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: //p')
            [[ -n $cand && $cand != "(none)" ]] || need_update=1
        done
    fi
    if [[ -n $need_update ]]; then
        apt_update || { cat "$log" >&2; echo "tests/bootstrap.sh: apt-get update failed" >&2; exit 1; }
        updated=1
    fi
    if ! apt_install; then
        # Fresh-looking lists can still be stale: update once and retry.
        if [[ -n $updated ]] || ! apt_update || ! apt_install; then
            cat "$log" >&2
            echo "tests/bootstrap.sh: apt-get install ${missing[*]} failed" >&2
            exit 1
        fi
    fi
    still=()
    have_postgres || still+=("$PG_PKG")
    [[ -x /usr/bin/chromium ]] || still+=("$CHROMIUM_PKG")
    have_cjk_font || still+=("$CJK_FONT_PKG")
    for shell in zsh fish; do command -v "$shell" >/dev/null 2>&1 || still+=("$shell"); done
    if ((${#still[@]})); then
        cat "$log" >&2
        echo "tests/bootstrap.sh: still missing after apt-get install: ${still[*]}" >&2
        exit 1
    fi
fi

# pip's output is kept and shown only if it fails (so the suite's log starts clean).
pip_log=$(mktemp)
if ! PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
    python3 -m pip install -q -e ".[test]" >"$pip_log" 2>&1; then
    cat "$pip_log" >&2
    rm -f "$pip_log"
    echo 'tests/bootstrap.sh: python3 -m pip install -e ".[test]" failed' >&2
    exit 1
fi
rm -f "$pip_log"
