#!/bin/bash
# Runs metriclint over the laid-out corpus as a new user would, one JSON
# report per repository, each with its own dialect (scripts/corpus/dialects.txt).
#
# usage: scripts/corpus/run.sh OUT [pack|init]
#   pack (default): `check` with no registry (the built-in pack);
#   init: `init` writes OUT/<repo>.yaml, then `check --registry` with it.
# Runs never read or write a cache (`--no-cache`): the corpus is measured afresh.
# Build first: cargo build --release.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$(realpath -m "$1"); mode=${2:-pack}
bin="$root/target/release/metriclint"
mkdir -p "$out"
dialect_of() {
  local name=$1 pattern dialect
  while read -r pattern dialect; do
    case $pattern in '#'*|'') continue;; esac
    # shellcheck disable=SC2254
    case $name in $pattern) echo "$dialect"; return;; esac
  done < "$here/dialects.txt"
  echo generic
}
for dir in "$root"/corpus/*/; do
  name=$(basename "$dir"); dialect=$(dialect_of "$name")
  (
    cd "$dir" || exit
    if [ "$mode" = init ]; then
      timeout 300 "$bin" init . --dialect "$dialect" > "$out/$name.yaml" 2> "$out/$name.err"
      registry=(--registry "$out/$name.yaml")
    else
      registry=()
    fi
    timeout 300 "$bin" check . --no-cache --dialect "$dialect" "${registry[@]}" --format json \
      > "$out/$name.json" 2>> "$out/$name.err"
  )
done
python3 - "$out" <<'PY'
import collections, glob, json, os, sys
total, files = collections.Counter(), 0
for path in sorted(glob.glob(sys.argv[1] + "/*.json")):
    try:
        doc = json.load(open(path))
    except ValueError:
        print(f"{os.path.basename(path)[:-5]:40} no report (see its .err)")
        continue
    counts = collections.Counter(f["code"] for f in doc["findings"])
    files += doc["summary"]["files"]
    total += counts
    print(f"{os.path.basename(path)[:-5]:40} {doc['summary']['files']:6} {dict(sorted(counts.items()))}")
print("files", files, dict(sorted(total.items())))
PY
