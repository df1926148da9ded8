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

# The demo lives one year of the shop's certificate on a simulated clock, from
# just after DigiCert capped public TLS certificates at 199 days: certplan
# takes the time from --now / CERTPLAN_NOW, the simulator from its start time
# and POST /_sim/clock.
DAY0=2026-03-01T00:00:00Z    # everything is ordered
DUE=2026-08-20T00:00:00Z     # day 172: the 199-day certificates are due, their 1-year orders run on
PLANEND=2027-02-05T00:00:00Z # day 341: the 1-year orders end within renewBefore (30 days)
export CERTPLAN_NOW=$DAY0

# simorders: the orders and certificates the simulator holds for one name.
go build -o "$WORK/simorders" ./scripts/simorders

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
echo "Simulator listening on $ADDR (CertCentral v2 at $CERTPLAN_ENDPOINT), its clock at $DAY0"

# at TIME: move the simulator's clock to TIME; certplan gets --now TIME.
at() { sim_admin POST /_sim/clock "{\"now\":\"$1\"}" >/dev/null; }
shop() { step "What CertCentral holds for shop.example.com" "GET http://$ADDR/_sim/orders"; "$WORK/simorders" "$ADDR" shop.example.com; }

step "Validate the manifests" certplan validate .
"$BIN" validate .

step "Plan: everything is new ($DAY0)" certplan plan .
"$BIN" plan .

step "Apply: place every order exactly once" certplan apply . --auto-approve
"$BIN" apply . --auto-approve | tee "$WORK/apply1.out"
shop

step "Plan again: nothing to do" certplan plan . --detailed-exitcode
"$BIN" plan . --detailed-exitcode

at "$DUE"
step "Day 172: the shop's 199-day certificate is due, its 1-year order is paid through next March" certplan plan . --now "$DUE"
"$BIN" plan . --now "$DUE"

step "Apply: a free reissue on the same order" certplan apply . --auto-approve --now "$DUE"
"$BIN" apply . --auto-approve --now "$DUE" | tee "$WORK/apply2.out"
shop

at "$PLANEND"
step "Day 341: the 1-year plans end, renewals are due" certplan plan . --now "$PLANEND"
"$BIN" plan . --now "$PLANEND"

step "Apply the renewals: new, billed orders" certplan apply . --auto-approve --now "$PLANEND"
"$BIN" apply . --auto-approve --now "$PLANEND" | tee "$WORK/apply3.out"
shop

step "The state file, safe to commit" certplan state list
"$BIN" state list

step "Plan once more: nothing to do" certplan plan . --now "$PLANEND" --detailed-exitcode
"$BIN" plan . --now "$PLANEND" --detailed-exitcode

# Count what CertCentral received against what certplan intended: orders
# ("create/renew -> order N") and reissues ("reissue on order N -> certificate C").
INTENDED=$(cat "$WORK"/apply[123].out | grep -c -- '-> order ' || true)
REISSUES=$(cat "$WORK"/apply[123].out | grep -cE -- ': reissue on order [0-9]+ -> certificate ' || true)
STATS=$(sim_admin GET /_sim/stats | tr -d ' \n')
PLACED=$(echo "$STATS" | sed -n 's/.*"orders_placed":\([0-9]*\).*/\1/p')
REISSUED=$(echo "$STATS" | sed -n 's/.*"reissues_placed":\([0-9]*\).*/\1/p')
step "Exactly once" "GET http://$ADDR/_sim/stats"
echo "certplan intended $INTENDED orders and $REISSUES reissues; the simulator received $PLACED orders and $REISSUED reissues."
if [ "$PLACED" != "$INTENDED" ] || [ "$REISSUED" != "$REISSUES" ]; then
  echo "MISMATCH: an order or a reissue was placed twice or lost" >&2
  exit 1
fi
if [ "$REISSUES" = 0 ]; then
  echo "MISSING: the year had no reissue" >&2
  exit 1
fi
# Domain validation in the loop: its own simulator, DNS server and directory.
"$(dirname "$BIN")/../scripts/demo-dcv.sh" "$BIN" "$WORK/dcv"

printf '\nDemo complete: every order and every reissue was placed exactly once. The simulator stops now.\n'
