#!/usr/bin/env bash
# make demo, domain validation part: an order with dcv_method dns-txt-token waits
# until its records are in DNS. The plan shows what to publish, the "DNS team"
# publishes the BIND fragment that `certplan dcv records` prints to the
# simulator's own DNS server (loopback only), and `certplan dcv check` completes
# the validation. Its own simulator and work directory, so the rest of the demo
# is untouched.
#
# Usage: scripts/demo-dcv.sh BIN WORKDIR
set -euo pipefail
BIN=$1
WORK=$2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
rm -rf "$WORK" && mkdir -p "$WORK/certs" "$WORK/csr"
cp "$ROOT/examples/certplan.yaml" "$WORK/"
cp "$ROOT/examples/certs/shop-frontend.yaml" "$WORK/certs/"
cp "$ROOT/examples/csr/shop-frontend.csr" "$WORK/csr/"

# dcv_admin METHOD PATH CONTENT-TYPE [BODY]: the simulator's admin API with bash alone.
dcv_admin() {
  local body=${4:-}
  exec 4<>"/dev/tcp/${DCV_ADDR%:*}/${DCV_ADDR##*:}"
  printf '%s %s HTTP/1.0\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s' \
    "$1" "$2" "$DCV_ADDR" "$3" "${#body}" "$body" >&4
  sed '1,/^\r$/d' <&4
  exec 4>&-
}

dcv_step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; }

printf '\n\033[1m==== Domain validation in the loop (DNS TXT) ====\033[0m\n'
# January 2027: certificates still live 199 days, but validations will be
# reused for only 100 days from 2027-03-15. certplan and the simulator share
# the clock (CERTPLAN_NOW sets the simulator's start).
export CERTPLAN_NOW=2027-01-20T09:00:00Z
# A simulator that checks DCV at its own in-memory DNS server on loopback.
"$BIN" simulator --addr 127.0.0.1:0 --port-file "$WORK/sim.addr" --dns-serve 127.0.0.1:0 \
  --dns-port-file "$WORK/dns.addr" --api-key demo-key >"$WORK/simulator.log" 2>&1 &
DCV_SIM=$!
trap 'kill $DCV_SIM 2>/dev/null || true; wait $DCV_SIM 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$WORK/sim.addr" ] && [ -s "$WORK/dns.addr" ] && break; sleep 0.1; done
DCV_ADDR=$(cat "$WORK/sim.addr")
DNS_ADDR=$(cat "$WORK/dns.addr")
export CERTPLAN_ENDPOINT="http://$DCV_ADDR/services/v2" CERTPLAN_LEGACY_ENDPOINT="http://$DCV_ADDR" DIGICERT_API_KEY=demo-key NO_COLOR=1
unset CERTPLAN_STATE
cd "$WORK"
echo "Simulator on $DCV_ADDR; its DNS server on $DNS_ADDR; both clocks at $CERTPLAN_NOW"

dcv_step "Order the shop's certificate (dcv_method: dns-txt-token)" certplan apply . --auto-approve
"$BIN" apply . --auto-approve | tee "$WORK/apply.out"

dcv_step "The plan shows what to publish" certplan plan .
"$BIN" plan .

dcv_step "The same as a BIND zone fragment, for the DNS team's pipeline" certplan dcv records --format bind
"$BIN" dcv records --format bind | tee "$WORK/dcv.zone"

dcv_step "Before publishing: nothing visible, CertCentral not asked" certplan dcv check --resolver "$DNS_ADDR" --wait 0
set +e
"$BIN" dcv check --resolver "$DNS_ADDR" --wait 0
code=$?
set -e
[ "$code" = 2 ] || { echo "expected exit 2 (still waiting), got $code" >&2; exit 1; }

dcv_step "The DNS team publishes the fragment" "POST http://$DCV_ADDR/_sim/dns < dcv.zone"
dcv_admin POST /_sim/dns text/plain "$(cat "$WORK/dcv.zone")"
echo

dcv_step "Check: DNS first, then CertCentral" certplan dcv check --resolver "$DNS_ADDR"
"$BIN" dcv check --resolver "$DNS_ADDR"

dcv_step "Issued; the plan already says the next reissue needs fresh DCV (reuse falls to 100 days)" certplan plan . --detailed-exitcode
"$BIN" plan . --detailed-exitcode

INTENDED=$(grep -c -- '-> order ' "$WORK/apply.out")
PLACED=$(dcv_admin GET /_sim/stats application/json | tr -d ' \n' | sed -n 's/.*"orders_placed":\([0-9]*\).*/\1/p')
CHECKS=$(dcv_admin GET /_sim/stats application/json | tr -d ' \n' | sed -n 's/.*"PUT\/services\/v2\/order\/certificate\/{id}\/check-dcv":\([0-9]*\).*/\1/p')
echo "certplan intended $INTENDED order; the simulator received $PLACED, and ${CHECKS:-0} check-dcv call."
if [ "$PLACED" != "$INTENDED" ] || [ "${CHECKS:-0}" != 1 ]; then
  echo "MISMATCH: an order placed twice or lost, or CertCentral asked before the records were visible" >&2
  exit 1
fi
