#!/usr/bin/env bash
# Audits the dependency pins (requirements.lock) for known vulnerabilities; `make audit`, part of
# `make test`, so CI runs it. Two parts:
#   1. offline: every pin is at least the fixed version of the advisories in
#      security/minimum-versions.txt (always enforced);
#   2. pip-audit (pinned in security/audit-tool.lock, its own venv .venv-audit) against the
#      vulnerability service IOM_AUDIT_SERVICE (pypi by default, or osv). Advisories accepted with
#      a reason are in security/pip-audit-ignore.txt (see SECURITY-ADVISORIES.md); any other one
#      fails. If the service cannot be reached, it says so; IOM_AUDIT_STRICT=1 makes that fail too.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TOOL=.venv-audit
mkdir -p results

.venv/bin/python scripts/audit_check.py --floors

if [[ ! -f $TOOL/.installed || security/audit-tool.lock -nt $TOOL/.installed ]]; then
  rm -rf "$TOOL" && "$PYTHON" -m venv "$TOOL"
  "$TOOL/bin/pip" install --quiet --disable-pip-version-check -r security/audit-tool.lock 2> >(grep -v "is ignored: it is neither" >&2)
  touch "$TOOL/.installed"
fi

ignores=()
while read -r id; do ignores+=(--ignore-vuln "$id"); done < <(sed -e 's/#.*//' -e '/^\s*$/d' security/pip-audit-ignore.txt)

# --no-deps --disable-pip: the lock is a complete `pip freeze`, nothing to resolve or install.
"$TOOL/bin/pip-audit" -r requirements.lock --no-deps --disable-pip --progress-spinner off \
  --vulnerability-service "${IOM_AUDIT_SERVICE:-pypi}" --timeout 20 \
  -f json -o results/pip-audit.json "${ignores[@]}" 2> >(grep -v -E "users are encouraged|pip-compile" >&2) || true
.venv/bin/python scripts/audit_check.py --report results/pip-audit.json
