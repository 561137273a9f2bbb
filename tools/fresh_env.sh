# Sourced by tools/time_quickstart.sh and tools/time_tests.sh: a fresh clone of this
# repository in $work/repo (the current folder afterwards), a fresh virtual environment,
# activated, and an empty HOME (cold caches). $1: the work folder (default: a new one).
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${1:-$(mktemp -d)}
git clone -q "$repo" "$work/repo" && cd "$work/repo"
python -m venv "$work/venv" && source "$work/venv/bin/activate"
export HOME="$work/home" && mkdir -p "$HOME"
