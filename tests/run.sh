#!/usr/bin/env bash
# The test command (README, .ci/run): set up, then the whole suite on the default matcher
# (durable_rules), then again on the plain-Python matcher, which must give the same answers.
# Tests about durable_rules itself (marked `durable`) and the 1M-event soak run once.
# Extra arguments go to both pytest runs, e.g. `bash tests/run.sh -x -q`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/bootstrap.sh
python3 -m pytest "$@"
TIERRULES_MATCHER=python python3 -m pytest -m "not durable and not slow" -q "$@"
