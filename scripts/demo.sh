#!/usr/bin/env bash
# make demo: the whole certplan story on the embedded CertCentral simulator,
# with no account and nothing to set up beyond Go.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$PWD/bin/certplan"
WORK="$PWD/.demo"
rm -rf "$WORK" && mkdir -p "$WORK"
cp -R examples/. "$WORK/"
rm -f "$WORK"/certplan.state.json*

# sim_admin METHOD PATH [JSON]: the simulator's admin API with bash alone
# (no curl needed on a fresh machine).
sim_admin() {
  local body=${3:-}
  exec 3<>"/dev/tcp/${ADDR%:*}/${ADDR##*:}"
  printf '%s %s HTTP/1.0\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' \
    "$1" "$2" "$ADDR" "${#body}" "$body" >&3
  sed '1,/^\r$/d' <&3
  exec 3>&-
}

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }

# 1. Start the simulator on a free loopback port.
"$BIN" simulator --addr 127.0.0.1:0 --port-file "$WORK/sim.addr" --api-key demo-key --account-id 1001 \
  >"$WORK/simulator.log" 2>&1 &
SIM=$!
trap 'kill $SIM 2>/dev/null || true; wait $SIM 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$WORK/sim.addr" ] && break; sleep 0.1; done
ADDR=$(cat "$WORK/sim.addr")
export CERTPLAN_ENDPOINT="http://$ADDR/services/v2"
export CERTPLAN_LEGACY_ENDPOINT="http://$ADDR"
export DIGICERT_API_KEY=demo-key DIGICERT_ACCOUNT_ID=1001
# Card data for the example paid by card: resolved at apply time only.
export CARD_NUMBER=4111111111111111 CARD_CVV=123
export NO_COLOR=1
cd "$WORK"
echo "Simulator listening on $ADDR (CertCentral v2 at $CERTPLAN_ENDPOINT)"

step "Validate the manifests" certplan validate .
"$BIN" validate .

step "Plan: everything is new" certplan plan .
"$BIN" plan .

step "Apply: place every order exactly once" certplan apply . --auto-approve
"$BIN" apply . --auto-approve | tee "$WORK/apply1.out"

step "Plan again: nothing to do" certplan plan . --detailed-exitcode
"$BIN" plan . --detailed-exitcode

LATER=$(date -u -d '+350 days' +%Y-%m-%dT%H:%M:%SZ)
# Move the simulator's clock by the same amount, so renewals are issued "then".
sim_admin POST /_sim/clock '{"advance":"8400h"}' >/dev/null
step "Eleven and a half months later: renewals are due" certplan plan . --now "$LATER"
"$BIN" plan . --now "$LATER"

step "Apply the renewals" certplan apply . --auto-approve --now "$LATER"
"$BIN" apply . --auto-approve --now "$LATER" | tee "$WORK/apply2.out"

step "The state file, safe to commit" certplan state list
"$BIN" state list

step "Plan once more: nothing to do" certplan plan . --now "$LATER" --detailed-exitcode
"$BIN" plan . --now "$LATER" --detailed-exitcode

# Count what CertCentral received against what certplan intended.
INTENDED=$(cat "$WORK/apply1.out" "$WORK/apply2.out" | grep -c -- '-> order ')
PLACED=$(sim_admin GET /_sim/stats | tr -d ' \n' | sed -n 's/.*"orders_placed":\([0-9]*\).*/\1/p')
step "Exactly once" "GET http://$ADDR/_sim/stats"
echo "certplan intended $INTENDED orders; the simulator received $PLACED."
if [ "$PLACED" != "$INTENDED" ]; then
  echo "MISMATCH: an order was placed twice or lost" >&2
  exit 1
fi
# Domain validation in the loop: its own simulator, DNS server and directory.
"$(dirname "$BIN")/../scripts/demo-dcv.sh" "$BIN" "$WORK/dcv"

printf '\nDemo complete: every order was placed exactly once. The simulator stops now.\n'
