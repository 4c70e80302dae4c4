#!/usr/bin/env bash
# Install the Debian packages a command needs, once: `bash scripts/system_packages.sh WHO PKG...`
# where each PKG is `package:probe[|probe...]`, a probe being a command name or an absolute path
# (glob allowed) whose presence proves the package is there. As root: apt-get (waiting at most
# 5 minutes for another apt's lock). Not root: one line naming the command to run, exit 2.
set -euo pipefail
who=$1; shift
missing=()
present() { # any of the |-separated probes
  local probe
  IFS='|' read -ra probes <<<"$1"
  for probe in "${probes[@]}"; do
    if [[ $probe == /* ]]; then compgen -G "$probe" >/dev/null && return 0
    else command -v "$probe" >/dev/null 2>&1 && return 0; fi
  done
  return 1
}
for spec in "$@"; do
  present "${spec#*:}" || missing+=("${spec%%:*}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "$who: needs ${missing[*]}: run  sudo apt-get install -y ${missing[*]}  then try again" >&2
  exit 2
fi
echo "$who: installing ${missing[*]} (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
lock=(-o DPkg::Lock::Timeout=300)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { apt-get "${lock[@]}" update -qq && apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  tail -n 5 "$log" >&2
  echo "$who: apt-get could not install ${missing[*]}" >&2
  exit 2
fi
