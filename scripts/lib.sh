# shellcheck shell=bash
# Summary: shared helpers for the release scripts: logging, die, the repo root, the package
#          list and the current version. Sourcing this file has no side effects.
#
# The package list comes from the Makefile (exported as PACKAGES: "name=dir" words in
# dependency order); scripts run alone get it from `make -s print-packages`.

# Messages for people go to stderr; stdout is for data.
log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
# die MESSAGE [CODE]: one line naming the problem and the fix, then exit (1 by default).
die() {
  printf 'error: %s\n' "$1" >&2
  exit "${2:-1}"
}
usage_error() { die "$1 (see --help)" 2; }

# The directory of this file, absolute, so that repo_root works after any cd.
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

# repo_root: the directory holding the Makefile, found from this file's location.
repo_root() { dirname "$LIB_DIR"; }

# print_help FILE: the script's header comment: the comment lines from line 2 on, up to the
# first line that is not a comment.
print_help() {
  sed -n '2,${/^#/!q;s/^# \{0,1\}//;/^!/d;p;}' "$1" >&2
}

# want_help ARGS...: true when -h or --help is among the arguments.
want_help() {
  local arg
  for arg in "$@"; do
    case "$arg" in -h | --help) return 0 ;; esac
  done
  return 1
}

# packages: "name=dir" lines in dependency order.
packages() {
  local list="${PACKAGES:-}"
  if [[ -z "$list" ]]; then
    list=$(make -s -C "$(repo_root)" --no-print-directory print-packages)
  fi
  # Words on one line (PACKAGES) or one per line (print-packages): one per line out.
  printf '%s\n' "$list" | tr -s '[:space:]' '\n' | sed '/^$/d'
}
package_names() { packages | cut -d= -f1; }
# package_dir NAME: the directory of a distribution, relative to the repo root.
package_dir() {
  local line
  while IFS= read -r line; do
    if [[ "${line%%=*}" == "$1" ]]; then
      printf '%s\n' "${line#*=}"
      return 0
    fi
  done < <(packages)
  die "unknown package '$1'; known: $(package_names | tr '\n' ' ')" 2
}

# current_version: the release version, from .bumpversion.cfg.
current_version() {
  sed -n 's/^current_version *= *//p' "$(repo_root)/.bumpversion.cfg"
}

# venv_dir: the toolkit's virtualenv (VENV, relative to the repo root unless absolute).
venv_dir() {
  local venv="${VENV:-.venv}"
  [[ "$venv" == /* ]] || venv="$(repo_root)/$venv"
  printf '%s\n' "$venv"
}
# use_venv: put the toolkit's virtualenv first on PATH, so `python`, `twine`... are pinned.
use_venv() {
  local venv
  venv=$(venv_dir)
  [[ -x "$venv/bin/python" ]] || die "no virtualenv at $venv; run 'make dev' first"
  PATH="$venv/bin:$PATH"
  export PATH
}

# uv_cache_dir: where uv keeps what it downloaded (UV_CACHE_DIR, default .cache/uv).
uv_cache_dir() { printf '%s\n' "${UV_CACHE_DIR:-$(repo_root)/.cache/uv}"; }

# Never let this machine's global pip or uv configuration leak into what we install or
# verify: no pip.conf, no uv.toml, no UV_* setting but those that cannot change which files
# are picked (the cache's place, the network: TLS roots, timeouts, concurrency; whether the
# bytecode is compiled).
isolate_pip() {
  export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
  unset PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_INDEX_URL PIP_CONSTRAINT PIP_REQUIRE_VIRTUALENV
  local name
  for name in "${!UV_@}"; do
    case "$name" in
      UV_CACHE_DIR | UV_NATIVE_TLS | UV_HTTP_TIMEOUT | UV_HTTP_RETRIES | UV_CONCURRENT_*) ;;
      UV_COMPILE_BYTECODE) ;;
      *) unset "$name" ;;
    esac
  done
  export UV_NO_CONFIG=1
}

# releasekit COMMAND...: the toolkit's Python (scripts/releasekit), with the interpreter on
# PATH (the toolkit's venv after use_venv). `releasekit --help` lists the commands. -S: the
# site-packages are added by releasekit itself, under its own Ctrl-C handling; a Ctrl-C in
# the few milliseconds before that (the interpreter's own start) makes Python print a
# KeyboardInterrupt traceback, which quiet_interrupts drops: no traceback reaches a user.
releasekit() {
  local -
  set +e
  local -a rk_status
  {
    PYTHONPATH="$LIB_DIR${PYTHONPATH:+:$PYTHONPATH}" python -S -m releasekit "$@" \
      2>&1 1>&3 3>&- | quiet_interrupts 3>&- >&2
    rk_status=("${PIPESTATUS[@]}")
  } 3>&1
  return "${rk_status[0]}"
}

# quiet_interrupts: stdin to stdout, less the tracebacks that end in KeyboardInterrupt, chained
# ones too ("During handling of the above exception, another exception occurred:").
quiet_interrupts() {
  trap '' INT  # a pipeline's filter: it must outlive Python's Ctrl-C to pass its last words
  awk '
    function flush() { printf "%s", held; held = ""; ended = 0; fflush() }
    /^(Traceback \(most recent call last\):|Could not import runpy module|Fatal Python error:|Python runtime state:)/ {
      if (ended) flush()  # a traceback that ended before this one starts
      held = held $0 "\n"; dropped = 0; next
    }
    held != "" && /^KeyboardInterrupt/ { held = ""; ended = 0; dropped = 1; next }
    # What chains another traceback to a dropped one goes with it.
    dropped && (/^$/ || /^(During handling of the above|The above exception)/) { next }
    { dropped = 0 }
    held != "" && /^(During handling of the above|The above exception)/ {
      held = held $0 "\n"; ended = 0; next
    }
    held != "" && (/^[ \t]/ || /^$/) { held = held $0 "\n"; next }
    # An exception line ends a traceback, unless a chained one follows it.
    held != "" && !ended { held = held $0 "\n"; ended = 1; next }
    held != "" { flush() }
    { print; fflush() }
    END { flush() }'
}

# default_url pypi|testpypi upload|index: the URL that twine (uploads) and pip (the simple
# index) themselves use for that index, so that no index host is written down here.
default_url() { releasekit default-url "$1" "$2"; }

# clock: now, in microseconds; seconds_since T: seconds since a clock reading, as 1.23.
clock() {
  local now=${EPOCHREALTIME/[.,]/}
  printf '%s\n' "$now"
}
seconds_since() {
  local now
  now=$(clock)
  printf '%d.%02d\n' $(((now - $1) / 1000000)) $((((now - $1) % 1000000) / 10000))
}

# ticking WHAT COMMAND...: run COMMAND, saying at least every PROGRESS_EVERY seconds (15)
# what is awaited and for how long (one line each time: it must read well in CI logs too).
ticking() {
  local what=$1 every=${PROGRESS_EVERY:-15} began=$SECONDS pid rc=0 i
  shift
  "$@" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for ((i = 0; i < every; i++)); do
      sleep 1
      kill -0 "$pid" 2>/dev/null || break 2
    done
    log "still $what: $((SECONDS - began))s so far (no deadline of ours; the installer retries by itself)"
  done
  wait "$pid" || rc=$?
  return "$rc"
}

# private_tmp NAME PREFIX: a new folder, mode 700, in $TMPDIR, whose path is in the variable
# NAME before the folder exists, so that an EXIT trap removing "$NAME" never misses it (a TERM
# between mktemp and the assignment of its output left the folder behind).
private_tmp() {
  local -n _dir=$1
  _dir="${TMPDIR:-/tmp}/$2.$$.$RANDOM$RANDOM"
  mkdir -m 700 -- "$_dir"
}

# handle_interrupts: Ctrl-C ends the run with one line and exit 130. The outermost verb of a
# run says it; the verbs it runs (they inherit RELEASEKIT_OUTER) stay quiet.
handle_interrupts() {
  if [[ -z "${RELEASEKIT_OUTER:-}" ]]; then
    RELEASEKIT_OUTER=$$
    export RELEASEKIT_OUTER
    # The trap may run while a command's stderr is redirected (to a log): keep the real one.
    exec {INTERRUPT_FD}>&2
  fi
  trap on_interrupt INT
  trap 'exit 143' TERM
}
# Background jobs of a non-interactive shell ignore SIGINT, so Ctrl-C alone would leave
# parallel builds and installs running: the outermost verb ends every process of its group
# (it ignores the TERM itself), then its EXIT trap cleans up (stops the index).
# A verb run by another dies of SIGINT itself (its EXIT trap still cleans up), so that its
# caller knows it was interrupted: a shell takes a child's plain exit as "handled".
on_interrupt() {
  trap - INT
  if [[ "${RELEASEKIT_OUTER:-}" == "$$" ]]; then
    trap '' TERM
    kill -TERM 0 2>/dev/null || true
    printf 'interrupted; nothing more was uploaded\n' >&"${INTERRUPT_FD:-2}"
    exit 130
  fi
  local jobs exit_trap
  jobs=$(jobs -p)
  # A job's commands ignore SIGINT (bash starts background jobs so) and would outlive a TERM
  # of the job alone, writing into folders its EXIT trap then removes: end the whole trees.
  # shellcheck disable=SC2086 # one word per job
  [[ -z "$jobs" ]] || end_trees $jobs
  # A shell killed by a signal skips its EXIT trap: run it now (it cleans up), then die.
  exit_trap=$(trap -p EXIT)
  if [[ -n "$exit_trap" ]]; then
    eval "set -- $exit_trap"  # trap -- 'COMMAND' EXIT
    trap - EXIT
    eval "$3" || true
  fi
  kill -INT $$
}

# alive PID: running, and not a zombie waiting for a parent that never reaps it.
alive() {
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  stat=${stat##*) }
  [[ "${stat%% *}" != Z ]]
}

# process_tree PID...: each PID and every process below it (children, theirs...), a line each.
process_tree() {
  ps -e -o pid= -o ppid= 2>/dev/null | awk -v roots="$*" '
    BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) tree[r[i]] = 1 }
    { parent[$1] = $2 }
    END {
      do {
        grew = 0
        for (p in parent) if (!(p in tree) && (parent[p] in tree)) { tree[p] = 1; grew = 1 }
      } while (grew)
      for (p in tree) print p
    }'
}

# end_trees PID...: TERM each PID and every process below it, then wait until all are gone
# (5 s at most).
end_trees() {
  local -a tree
  local pid i running
  mapfile -t tree < <(process_tree "$@")
  ((${#tree[@]})) || tree=("$@")
  kill -TERM "${tree[@]}" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    running=""
    for pid in "${tree[@]}"; do
      if alive "$pid"; then running=1; break; fi
    done
    [[ -n "$running" ]] || return 0
    sleep 0.1
  done
}

# debug_trace: DEBUG=1 turns on tracing.
debug_trace() {
  if [[ "${DEBUG:-}" == 1 ]]; then PS4="+ \${EPOCHREALTIME} \${BASHPID} "; set -x; fi
}
