#!/bin/sh
# The night's sync of a CRM export into the portal. From cron:
#   30 2 * * * /srv/crm/nightly.sh >>/srv/crm/nightly.log 2>&1
# cron starts in $HOME with a short PATH, so every path here is absolute; each can be set
# from the environment (CI runs this very script against the emulator that way).
set -u
OPPIMPORT=${OPPIMPORT:-/usr/local/bin/oppimport}
CRM=${CRM:-/srv/crm}               # deals.yaml (the mapping), its state database, export.csv
export ONLYOFFICE_URL="${ONLYOFFICE_URL:-https://example.onlyoffice.com}"
export ONLYOFFICE_TOKEN="${ONLYOFFICE_TOKEN:-$(cat "$CRM/token")}"
stamp=$(date +%Y-%m-%dT%H%M%S)
reports=$CRM/reports/$stamp
mkdir -p "$reports" || exit 2
"$OPPIMPORT" import --mapping "$CRM/deals.yaml" --mode sync --progress never --log-format json \
  --report "$reports/sync.json" --rejects "$reports/rejects.csv" "$CRM/export.csv"
status=$?
case $status in
  0) echo "$stamp: the portal is in step with the export; report: $reports/sync.json" ;;
  1) echo "$stamp: rows to look at in $reports/sync.json; fix them in $reports/rejects.csv and import that file with the same mapping" ;;
  2) echo "$stamp: nothing was posted (the mapping, the export, or another run holding the state): see the log above" ;;
  3) echo "$stamp: stopped early (token refused, portal unreachable, interrupted); the next run resumes; done so far: $reports/sync.json" ;;
esac
exit $status
