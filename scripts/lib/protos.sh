# Protos: buf lint and breaking-change checks of protos/ (config in
# protos/buf.yaml; buf pinned in tools/protolint/package.json and its lock,
# installed from the npm registry with npm ci into tools/protolint/node_modules,
# which git ignores).
# shellcheck shell=bash
#
# Source it, then call the functions; each returns buf's status:
#   source scripts/lib/protos.sh
#   lint_protos                 # buf lint protos/
#   check_breaking [REF]        # buf breaking: working tree vs. REF
#
# check_breaking compares the protos of the working tree (uncommitted and
# untracked .proto files included) with those of a commit:
#   - REF, the first argument, when given (any git revision: HEAD, main~3, a
#     commit id);
#   - else $SHOP_BUF_AGAINST, when set and not empty (the override: e.g.
#     SHOP_BUF_AGAINST=HEAD to check only uncommitted changes);
#   - else HEAD~1, the previous commit of the current branch, so in a clean
#     clone it checks the last commit.
# When that commit is not in the clone (a shallow clone, HEAD being the first
# commit, no git repository at all) it says so and returns 0: there is nothing
# to compare with. An intentional break is declared in protos/buf.yaml (see the
# comment under breaking:), not here.

# shellcheck source-path=SCRIPTDIR
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PROTOLINT_DIR=$ROOT/tools/protolint

# The buf version that tools/protolint/package.json pins ("1.75.0").
_pinned_buf_version() {
  sed -n 's/.*"@bufbuild\/buf": *"\([^"]*\)".*/\1/p' "$PROTOLINT_DIR/package.json"
}

# Installs node and npm (Debian's nodejs and npm) when either is missing, the
# way ensure_packages installs the build's packages.
_ensure_node() {
  command -v node >/dev/null && command -v npm >/dev/null && return 0
  log "installing Debian packages: nodejs npm"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    nodejs npm >/dev/null
}

# Prints the path of the pinned buf, installing it first (npm ci from the lock
# file) when it is missing or another version. Progress goes to stderr.
ensure_buf() {
  local buf=$PROTOLINT_DIR/node_modules/.bin/buf want have=""
  want=$(_pinned_buf_version)
  [[ -x $buf ]] && have=$("$buf" --version 2>/dev/null)
  if [[ -z $have || $have != "$want" ]]; then
    _ensure_node || return 1
    log "installing buf $want (npm ci in tools/protolint)"
    (cd "$PROTOLINT_DIR" && npm ci --no-audit --no-fund --loglevel=error) >&2 || return 1
    have=$("$buf" --version 2>/dev/null)
    if [[ $have != "$want" ]]; then
      echo "ensure_buf: $buf reports '${have}', expected $want" >&2
      return 1
    fi
  fi
  printf '%s\n' "$buf"
}

# buf lint of protos/; extra arguments go to buf (e.g. --error-format=json).
lint_protos() {
  local buf
  buf=$(ensure_buf) || return 1
  log "buf lint protos"
  (cd "$ROOT/protos" && "$buf" lint "$@")
}

# buf breaking of the working tree's protos/ against protos/ at a commit; see
# the top of this file for which commit.
check_breaking() {
  local ref=${1:-${SHOP_BUF_AGAINST:-HEAD~1}} git_dir commit buf
  if ! git_dir=$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null); then
    log "check_breaking: $ROOT is not a git clone; nothing to compare with, skipped"
    return 0
  fi
  if ! commit=$(git -C "$ROOT" rev-parse --verify --quiet "$ref^{commit}"); then
    log "check_breaking: '$ref' is not in this clone (shallow clone, or no such commit); nothing to compare with, skipped"
    return 0
  fi
  buf=$(ensure_buf) || return 1
  log "buf breaking protos against $ref ($(git -C "$ROOT" log -1 --format='%h %s' "$commit" | cut -c1-72))"
  # The commit id rather than $ref: buf resolves it in its own clone, where
  # HEAD and branch names may differ. format=git: a worktree's git dir does not
  # end in .git.
  (cd "$ROOT/protos" &&
    "$buf" breaking . --against "$git_dir#format=git,ref=$commit,subdir=protos")
}
