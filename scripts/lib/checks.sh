# The static checks of scripts/test: style and lint that a reviewer should
# never have to point out. Each function prints what is wrong and returns
# non-zero; scripts/test stops at the first failing check.
#   check_format         clang-format (.clang-format): every C++ file formatted
#   check_shell          shellcheck on every shell script
#   check_protos         buf lint, and buf breaking against the previous commit
#   check_thread_safety  clang -Wthread-safety -Werror=thread-safety on every
#                        C++ source of the build (ABSL_GUARDED_BY & co.)
#   check_tidy [all]     clang-tidy (.clang-tidy) on the C++ files changed
#                        since $SHOP_CHECK_BASE (default HEAD~1), or on all
# shellcheck shell=bash

# shellcheck source-path=SCRIPTDIR
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=protos.sh
source "$(dirname "${BASH_SOURCE[0]}")/protos.sh"

# Tracked and new (not ignored) files matching the patterns.
_repo_files() {
  git -C "$ROOT" ls-files --cached --others --exclude-standard -- "$@" |
    while read -r f; do [[ -f $ROOT/$f ]] && printf '%s\n' "$f"; done
}

check_format() {
  log "clang-format: every C++ file"
  local bad=() f
  while read -r f; do
    clang-format --dry-run -Werror "$ROOT/$f" >/dev/null 2>&1 || bad+=("$f")
  done < <(_repo_files '*.cc' '*.h')
  if [[ ${#bad[@]} -gt 0 ]]; then
    printf 'not formatted (fix: clang-format -i FILE):\n' >&2
    printf '  %s\n' "${bad[@]}" >&2
    return 1
  fi
}

check_shell() {
  log "shellcheck: every shell script"
  local scripts=()
  mapfile -t scripts < <(cd "$ROOT" && grep -l -r -E '^#!/usr/bin/env bash|^# shellcheck shell=bash' \
    scripts .ci | sort)
  (cd "$ROOT" && shellcheck -x "${scripts[@]}")
}

check_protos() {
  lint_protos --error-format=text && check_breaking "${SHOP_BUF_AGAINST:-HEAD~1}"
}

# The compile commands of the project's own sources (not generated code),
# one JSON object per line: {"directory", "command", "file"}.
_project_compile_commands() {
  python3 - "$BUILD_DIR/compile_commands.json" "$ROOT" <<'PY'
import json, sys
entries, root = json.load(open(sys.argv[1])), sys.argv[2]
for e in entries:
    f = e["file"]
    rel = f[len(root):]
    # Generated code, and the layer probes that are meant not to build.
    if f.startswith(root + "/") and "/build" not in rel and not rel.startswith("/tests/layers/") \
            and not f.endswith(".pb.cc"):
        print(json.dumps(e))
PY
}

# Every C++ source compiled by clang with the thread-safety analysis, which
# GCC does not have: the ABSL_GUARDED_BY / ABSL_EXCLUSIVE_LOCKS_REQUIRED
# annotations become checked, not comments. Syntax only (no code generated),
# two at a time.
check_thread_safety() {
  log "clang -Wthread-safety: every C++ source of the build"
  [[ -f $BUILD_DIR/compile_commands.json ]] || { echo "build first" >&2; return 1; }
  _project_compile_commands | python3 -c '
import json, shlex, sys
for line in sys.stdin:
    e = json.loads(line)
    args = shlex.split(e["command"])
    out = []
    skip = False
    for a in args[1:]:
        if skip:
            skip = False
            continue
        if a in ("-o", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        if a in ("-c", "-MD", "-MMD") or a.startswith("-fdiagnostics-color"):
            continue
        out.append(a)
    cmd = ["clang++", "-fsyntax-only", "-Wthread-safety", "-Werror=thread-safety",
           "-Wno-unknown-warning-option"] + out
    print(json.dumps({"dir": e["directory"], "cmd": cmd}))
' | while read -r job; do printf '%s\0' "$job"; done |
    xargs -0 -P "${SHOP_JOBS:-2}" -n 1 python3 -c '
import json, subprocess, sys
job = json.loads(sys.argv[1])
r = subprocess.run(job["cmd"], cwd=job["dir"], capture_output=True, text=True)
if r.returncode != 0:
    sys.stderr.write(r.stderr)
    sys.exit(1)
'
}

# clang-tidy on the C++ sources changed since the base commit (headers count
# through the source of the same name), or on every source with "all".
check_tidy() {
  local scope=${1:-changed} base=${SHOP_CHECK_BASE:-HEAD~1} files=()
  [[ -f $BUILD_DIR/compile_commands.json ]] || { echo "build first" >&2; return 1; }
  if [[ $scope == all ]]; then
    mapfile -t files < <(_project_compile_commands | python3 -c '
import json, sys
for line in sys.stdin: print(json.loads(line)["file"])' | sort -u)
  else
    if ! git -C "$ROOT" rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
      log "clang-tidy: '$base' is not in this clone; nothing to compare with, skipped"
      return 0
    fi
    local changed=() f stem
    mapfile -t changed < <( (git -C "$ROOT" diff --name-only "$base" -- '*.cc' '*.h';
      git -C "$ROOT" ls-files --others --exclude-standard -- '*.cc' '*.h') | sort -u)
    for f in "${changed[@]}"; do
      stem=${f%.*}
      [[ -f $ROOT/$stem.cc ]] && files+=("$ROOT/$stem.cc")
    done
    mapfile -t files < <(printf '%s\n' "${files[@]}" | sort -u | grep -v '^$' | grep -v '^'"$ROOT"'/tools/fakepay/' || true)
    # Only what the build compiles (tests/layers probes are meant to fail).
    local known
    known=$(_project_compile_commands | python3 -c '
import json, sys
for line in sys.stdin: print(json.loads(line)["file"])')
    mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -F -x -f <(printf '%s\n' "$known") || true)
  fi
  if [[ ${#files[@]} -eq 0 ]]; then
    log "clang-tidy: no changed C++ sources since $base"
    return 0
  fi
  log "clang-tidy: ${#files[@]} source(s) ($scope)"
  printf '%s\0' "${files[@]}" |
    xargs -0 -P "${SHOP_JOBS:-2}" -n 4 clang-tidy -p "$BUILD_DIR" --quiet 2>/dev/null
}
