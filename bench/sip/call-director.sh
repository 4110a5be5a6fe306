#!/usr/bin/env bash
# bench/sip/call-director.sh — SIP load benchmark of tandem's call director
# (SIPp UAC → tandem B2BUA → SIPp UAS), with Kamailio as a stateful-proxy anchor.
# See bench/sip/README.md. A benchmark, not a test: it exits 0 when it ran.
#
# Env (or flags): RATES="250 500 ..."  STEP_SECONDS=10  BURST=30000  BURST_RATE=
#   WATCH_SECONDS=70  SKIP_KAMAILIO=1  QUICK=1  LOG_DIR=/path (keep logs)  NO_NETNS=1
#   TANDEM_REV=HEAD (build that commit instead of the working tree)  LOG_LEVEL=warn (tandem's)  SKIP_TANDEM_SWEEP=1
#   SOAK=1800 SOAK_RATE=500 (soak mode: one long run at one rate, RSS every minute; nothing else)
set -euo pipefail

usage() {
	cat <<'EOF'
usage: bench/sip/call-director.sh [--quick] [--skip-kamailio] [--rates "250 500"]
          [--step-seconds N] [--burst N] [--burst-rate N] [--watch-seconds N]
          [--log-dir DIR] [--no-netns] [--soak SECONDS [--soak-rate N]]
Same settings as env: QUICK=1 SKIP_KAMAILIO=1 RATES= STEP_SECONDS= BURST=
BURST_RATE= WATCH_SECONDS= LOG_DIR= NO_NETNS=1 SOAK= SOAK_RATE=
EOF
}

while (($#)); do
	case $1 in
	--quick) QUICK=1 ;;
	--skip-kamailio) SKIP_KAMAILIO=1 ;;
	--rates) RATES=$2; shift ;;
	--step-seconds) STEP_SECONDS=$2; shift ;;
	--burst) BURST=$2; shift ;;
	--burst-rate) BURST_RATE=$2; shift ;;
	--watch-seconds) WATCH_SECONDS=$2; shift ;;
	--log-dir) LOG_DIR=$2; shift ;;
	--no-netns) NO_NETNS=1 ;;
	--soak) SOAK=$2; shift ;;
	--soak-rate) SOAK_RATE=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
	RATES=${RATES:-"100 200"}
	STEP_SECONDS=${STEP_SECONDS:-5}
	BURST=${BURST:-2000}
	WATCH_SECONDS=${WATCH_SECONDS:-20}
fi
RATES=${RATES:-"250 500 1000 1500 2000 2500 3000"}
STEP_SECONDS=${STEP_SECONDS:-10}
BURST=${BURST:-30000}
BURST_RATE=${BURST_RATE:-}
WATCH_SECONDS=${WATCH_SECONDS:-70}
SKIP_KAMAILIO=${SKIP_KAMAILIO:-0}
LOG_DIR=${LOG_DIR:-}
NO_NETNS=${NO_NETNS:-0}
LOG_LEVEL=${LOG_LEVEL:-warn}
SKIP_TANDEM_SWEEP=${SKIP_TANDEM_SWEEP:-0}
SOAK=${SOAK:-0}
SOAK_RATE=${SOAK_RATE:-500}
export SOAK SOAK_RATE SKIP_TANDEM_SWEEP LOG_LEVEL QUICK RATES STEP_SECONDS BURST BURST_RATE WATCH_SECONDS SKIP_KAMAILIO LOG_DIR NO_NETNS

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SCRIPT="$ROOT/bench/sip/call-director.sh"
UAS_XML=${UAS_XML:-/work/shared/peers/sipp-uas-200.xml}
KAM_CFG=${KAM_CFG:-/work/shared/peers/kamailio-dispatcher.cfg}

# ---- outer stage: build (needs the host network for Go modules), then re-exec
# in a private network namespace, so that SIPp's control sockets (which bind
# 0.0.0.0) and everything else are reachable from this run only.
if [[ -z ${BENCH_TMP:-} ]]; then
	for tool in go sipp python3 curl; do
		command -v "$tool" >/dev/null || { echo "missing tool: $tool (sipp is Debian's sip-tester)" >&2; exit 1; }
	done
	if [[ $SKIP_KAMAILIO != 1 ]] && ! command -v kamailio >/dev/null; then
		echo "kamailio not found: apt-get install -y kamailio" >&2
		if [[ $(id -u) == 0 ]]; then
			(apt-get install -y kamailio >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y kamailio >/dev/null 2>&1; }) || true
		fi
		command -v kamailio >/dev/null || { echo "kamailio still missing: skipping it" >&2; SKIP_KAMAILIO=1; export SKIP_KAMAILIO; }
	fi
	BENCH_TMP=$(mktemp -d /tmp/tandem-bench-sip.XXXXXX)
	trap 'rm -rf "$BENCH_TMP"' EXIT
	echo "# building tandem ($(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?'), tree $( [[ -n $(cd "$ROOT" && git status --porcelain 2>/dev/null || true) ]] && echo dirty || echo clean))"
	if [[ -n ${TANDEM_REV:-} ]]; then
		# build a committed revision, untouched by uncommitted edits in the tree
		mkdir -p "$BENCH_TMP/src"
		(cd "$ROOT" && git archive "$TANDEM_REV") | tar -x -C "$BENCH_TMP/src"
		echo "# built from $TANDEM_REV ($(cd "$ROOT" && git rev-parse --short "$TANDEM_REV"))"
		(cd "$BENCH_TMP/src" && go build -o "$BENCH_TMP/tandem" ./cmd/tandem)
	else
		(cd "$ROOT" && go build -o "$BENCH_TMP/tandem" ./cmd/tandem)
	fi
	export BENCH_TMP
	if [[ $NO_NETNS != 1 ]] && unshare -n true 2>/dev/null; then
		trap - EXIT
		exec unshare -n env BENCH_NETNS=1 bash "$SCRIPT"
	fi
	trap - EXIT
	exec env BENCH_NETNS=0 bash "$SCRIPT"
fi

# ---- inner stage -----------------------------------------------------------
TMP=$BENCH_TMP
PIDS=()      # every process started here (SIPp UACs add and remove themselves)
KAM_PIDFILE="$TMP/kamailio.pid"

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	if [[ -f $KAM_PIDFILE ]]; then
		pid=$(cat "$KAM_PIDFILE" 2>/dev/null || true)
		[[ -n $pid ]] && PIDS+=("$pid")
	fi
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for _ in $(seq 50); do
		local alive=0
		for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.1
	done
	for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	if [[ -n $LOG_DIR ]]; then
		mkdir -p "$LOG_DIR"
		(cd "$TMP" && find . \( -name '*.log' -o -name '*.csv' -o -name '*.yaml' -o -name '*.cfg' -o -name '*.out' \) -print0 |
			tar --null -T - -cf - 2>/dev/null) | tar -C "$LOG_DIR" -xf - 2>/dev/null || true
		echo "# logs kept in $LOG_DIR"
	fi
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[[ ${BENCH_NETNS:-0} == 1 ]] && ip link set lo up

log() { printf '%s\n' "$*"; }

# free_ports N: N ports p, each with p, p+1 and p+2 free for UDP and TCP on all
# addresses (SIPp binds its control port on 0.0.0.0 and media on p and p+2).
free_ports() {
	python3 - "$1" <<'EOF'
import socket, sys
n = int(sys.argv[1]); out = []; held = []
for _ in range(500):
    if len(out) >= n: break
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 0))
    p = s.getsockname()[1]; held.append(s)
    if p > 65000 or any(abs(p - q) < 3 for q in out): continue
    ok = True
    for q in (p, p + 1, p + 2):
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            if q == p and kind == socket.SOCK_DGRAM: continue
            t = socket.socket(socket.AF_INET, kind)
            try: t.bind(("0.0.0.0", q)); held.append(t)
            except OSError: ok = False
    if ok: out.append(p)
if len(out) < n: sys.exit("no free ports")
print(" ".join(map(str, out)))
EOF
}

read -r SIP_PORT MET_PORT UAS_PORT UAS_CP UAS_MP UAC_PORT UAC_CP UAC_MP KAM_PORT < <(free_ports 9)

CLK_TCK=$(getconf CLK_TCK)
# cpu_ticks PID...: utime+stime of the processes, in clock ticks.
cpu_ticks() {
	local t=0 pid f
	for pid in "$@"; do
		f=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
		f=${f##*) }          # drop "pid (comm) "
		set -- $f            # field 3 of /proc/PID/stat is now $1
		t=$((t + ${12} + ${13}))
	done
	echo "$t"
}
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
mb() { awk -v k="$1" 'BEGIN{printf "%.1f", k/1024}'; }
secs() { awk -v t="$1" -v c="$CLK_TCK" 'BEGIN{printf "%.2f", t/c}'; }
scrape() { curl -sf --max-time 3 "http://127.0.0.1:$MET_PORT/metrics" 2>/dev/null || true; }
metric() { # metric NAME: its first sample's value, or "?"
	local body
	body=$(scrape)
	awk -v n="$1" '$1 == n && !found {print $NF; found=1} END{if(!found) print "?"}' <<<"$body"
}
outcomes() {
	local body
	body=$(scrape)
	awk '/^tandem_calls_total\{/ {sub(/^tandem_calls_total\{outcome="/, ""); sub(/"\}/, ""); printf "%s=%s ", $1, $2}' <<<"$body"
}

# wait_udp PORT TRIES: wait until something is bound to 127.0.0.1:PORT (UDP).
wait_udp() {
	local hex i
	hex=$(printf '%04X' "$1")
	for ((i = 0; i < $2; i++)); do
		grep -q ":$hex " /proc/net/udp && return 0
		sleep 0.1
	done
	return 1
}

# ---- tandem ------------------------------------------------------------------
TANDEM_PID=
write_tandem_config() {
	# A copy of examples/call-director.yaml with free ports, warn logging and a
	# high call limit.
	cat >"$TMP/tandem.yaml" <<EOF
data_dir: $TMP/tandem-data
log: {level: $LOG_LEVEL}
sip:
  listen:
    - {transport: udp, address: "127.0.0.1:$SIP_PORT"}
    - {transport: tcp, address: "127.0.0.1:$SIP_PORT"}
trunks:
  - name: loopback
    networks: ["127.0.0.1/8"]
users:
  - {user: "1001", password: secret1001}
server_groups:
  - name: uas
    heartbeat: {enabled: false}
    destinations:
      - {address: "127.0.0.1:$UAS_PORT", transport: udp}
dial_plan:
  - {pattern: "2000", server_group: uas}
  - {pattern: "1XXX", registered: true}
routing:
  static:
    - {dnis: "2000", labels: ["2000"]}
    - {dnis: "2001", labels: ["1001"]}
call_server:
  max_calls: 100000
  ring_timeout: 30s
metrics:
  listen: "127.0.0.1:$MET_PORT"
EOF
}

start_tandem() { # start_tandem LOGNAME
	"$TMP/tandem" serve -c "$TMP/tandem.yaml" >>"$TMP/$1" 2>&1 &
	TANDEM_PID=$!
	disown "$TANDEM_PID" 2>/dev/null || true # no "Killed" job notice if it must be killed
	PIDS+=("$TANDEM_PID")
	local i
	for ((i = 0; i < 150; i++)); do
		curl -sf --max-time 1 "http://127.0.0.1:$MET_PORT/healthz" >/dev/null 2>&1 && return 0
		kill -0 "$TANDEM_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "tandem did not become ready; its log:" >&2
	tail -20 "$TMP/$1" >&2
	return 1
}

stop_tandem() {
	local i
	kill -TERM "$TANDEM_PID" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do kill -0 "$TANDEM_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$TANDEM_PID" 2>/dev/null || true
	# SIGKILL is not instant: wait until its sockets are free for the next start.
	for ((i = 0; i < 50; i++)); do kill -0 "$TANDEM_PID" 2>/dev/null || break; sleep 0.1; done
	forget_pid "$TANDEM_PID"
}

# wait_drained SECONDS: until tandem_calls_active is 0; prints the last value.
wait_drained() {
	local i v
	for ((i = 0; i < $1 * 5; i++)); do
		v=$(metric tandem_calls_active)
		[[ $v == 0 ]] && break
		sleep 0.2
	done
	echo "$v"
}

forget_pid() {
	local keep=() p
	for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# ---- SIPp --------------------------------------------------------------------
start_uas() {
	mkdir -p "$TMP/uas"
	local out
	out=$(cd "$TMP/uas" && sipp -sf "$UAS_XML" -i 127.0.0.1 -p "$UAS_PORT" -mp "$UAS_MP" \
		-nostdin -bg -cp "$UAS_CP" -trace_err 2>&1) || true
	UAS_PID=$(sed -n 's/.*PID=\[\([0-9]*\)\].*/\1/p' <<<"$out")
	[[ -n $UAS_PID ]] || { echo "SIPp UAS did not start: $out" >&2; return 1; }
	PIDS+=("$UAS_PID")
	wait_udp "$UAS_PORT" 50 || { echo "SIPp UAS is not listening" >&2; return 1; }
}

# stat_col FILE COLUMN: the value of COLUMN on the last line of a SIPp stat file.
stat_col() {
	awk -F';' -v c="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==c) k=i; next} {v=$k} END{print (k && v != "") ? v : 0}' "$1" 2>/dev/null || echo 0
}

# run_uac TARGET_PORT RATE CALLS DIR: one SIPp UAC run; sets OK FAILED SENT
# UNFINISHED ACH_RATE WHY UAC_RC WALL.
run_uac() {
	local target=$1 rate=$2 calls=$3 dir=$4 limit timeout pid t0 t1
	mkdir -p "$dir"
	limit=$((calls > 5000 ? calls : 5000))
	timeout=$((calls / rate * 2 + 30))
	t0=$(date +%s.%N)
	(cd "$dir" && exec sipp "127.0.0.1:$target" -sn uac -s 2000 -i 127.0.0.1 -p "$UAC_PORT" \
		-mp "$UAC_MP" -r "$rate" -m "$calls" -l "$limit" -nostdin -cp "$UAC_CP" \
		-trace_stat -stf stat.csv -fd 1 -trace_err -timeout "${timeout}s" \
		>uac.out 2>&1 </dev/null) &
	pid=$!
	PIDS+=("$pid")
	UAC_RC=0
	wait "$pid" || UAC_RC=$?
	forget_pid "$pid"
	t1=$(date +%s.%N)
	WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
	local f="$dir/stat.csv"
	OK=$(stat_col "$f" 'SuccessfulCall(C)')
	SIPP_FAILED=$(stat_col "$f" 'FailedCall(C)')
	SENT=$(stat_col "$f" 'TotalCallCreated')
	ACH_RATE=$(stat_col "$f" 'CallRate(C)')
	ACH_RATE=$(awk -v r="$ACH_RATE" 'BEGIN{printf "%.0f", r}')
	FAILED=$((calls - OK))
	UNFINISHED=$((calls - OK - SIPP_FAILED))
	WHY=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++) h[i]=$i; next} {for(i=1;i<=NF;i++) v[i]=$i}
		END{for(i in h) if(h[i] ~ /^(Failed.*|Retransmissions|OutOfCallMsgs|DeadCallMsgs|WatchdogMajor|WatchdogMinor|FatalErrors)\(C\)$/ && h[i] != "FailedCall(C)" && v[i] > 0) {n=h[i]; sub(/\(C\)$/, "", n); printf "%s=%s ", n, v[i]}}' "$f" 2>/dev/null || true)
}

# ---- rate sweep ----------------------------------------------------------------
# sweep NAME TARGET_PORT: prints one line per rate, sets BEST.
sweep() {
	local name=$1 target=$2 rate calls c0 c1 cpu rss active
	BEST=0
	printf '%-9s %6s %7s %8s %8s %7s %6s %8s %7s %9s  %s\n' target rate "got/s" calls ok failed unfin "cpu_s" "cpu%" "rss_MB" "notes"
	for rate in $RATES; do
		calls=$((rate * STEP_SECONDS))
		if [[ $name == tandem ]]; then c0=$(cpu_ticks "$TANDEM_PID"); else c0=$(cpu_ticks $(kam_pids)); fi
		run_uac "$target" "$rate" "$calls" "$TMP/$name-$rate"
		if [[ $name == tandem ]]; then
			c1=$(cpu_ticks "$TANDEM_PID"); rss=$(mb "$(rss_kb "$TANDEM_PID")")
			active=$(wait_drained 45)
			[[ $active == 0 ]] || WHY+="calls_active=$active after 45s "
		else
			c1=$(cpu_ticks $(kam_pids)); rss=-
			sleep 5 # let the UAS's 4 s timewait and Kamailio's transactions end
		fi
		cpu=$(secs $((c1 - c0)))
		[[ $UAC_RC == 0 || $UAC_RC == 1 ]] || WHY+="sipp_rc=$UAC_RC "
		((FAILED == 0)) && ((rate > BEST)) && BEST=$rate
		printf '%-9s %6s %7s %8s %8s %7s %6s %8s %7s %9s  %s\n' "$name" "$rate" "$ACH_RATE" "$calls" "$OK" "$FAILED" "$UNFINISHED" \
			"$cpu" "$(awk -v c="$cpu" -v w="$WALL" 'BEGIN{printf "%.0f", 100*c/w}')" "$rss" "$WHY"
	done
}

# ---- Kamailio ----------------------------------------------------------------
kam_pids() {
	local main
	main=$(cat "$KAM_PIDFILE" 2>/dev/null) || return 0
	echo "$main"
	ps -o pid= --ppid "$main" 2>/dev/null || true
}

start_kamailio() {
	mkdir -p "$TMP/kamrun"
	echo "1 sip:127.0.0.1:$UAS_PORT" >"$TMP/dispatcher.list"
	sed -e "s|DISPATCHER_LIST|$TMP/dispatcher.list|" \
		-e "s|^listen=.*|listen=udp:127.0.0.1:$KAM_PORT|" "$KAM_CFG" >"$TMP/kamailio.cfg"
	grep -q "^listen=udp:127.0.0.1:$KAM_PORT\$" "$TMP/kamailio.cfg" || { echo "kamailio cfg has no listen= line" >&2; return 1; }
	kamailio -f "$TMP/kamailio.cfg" -P "$KAM_PIDFILE" -Y "$TMP/kamrun" -m 2048 -M 64 >"$TMP/kamailio.log" 2>&1 || {
		echo "kamailio failed to start:" >&2; tail -20 "$TMP/kamailio.log" >&2; return 1; }
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -s $KAM_PIDFILE ]] && wait_udp "$KAM_PORT" 1 && return 0
		sleep 0.1
	done
	echo "kamailio is not listening" >&2
	return 1
}

# ==== run =========================================================================
log "# tandem call-director SIP benchmark — $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
log "# SIPp UAC and UAS, tandem and Kamailio share these cores with each other (and with anything else running): figures are noisy"
log "# rates: $RATES; ${STEP_SECONDS}s of calls per step; burst $BURST; watch ${WATCH_SECONDS}s; network namespace: $([[ ${BENCH_NETNS:-0} == 1 ]] && echo private || echo host)"

write_tandem_config
start_tandem tandem.log
start_uas
IDLE0=$(rss_kb "$TANDEM_PID")

# ---- soak: one long run at one rate, tandem's RSS sampled every minute ------
if ((SOAK > 0)); then
	log "## soak: $SOAK_RATE calls/s for ${SOAK}s (SIPp UAC -> tandem -> SIPp UAS); RSS at start $(mb "$IDLE0") MB"
	printf '%8s %9s %9s %13s %13s %10s %8s\n' "t_min" "rss_MB" "peak_MB" "calls_active" "go_heap_MB" "ok_so_far" "cpu%"
	SOAK_CALLS=$((SOAK_RATE * SOAK))
	c0=$(cpu_ticks "$TANDEM_PID")
	run_uac "$SIP_PORT" "$SOAK_RATE" "$SOAK_CALLS" "$TMP/soak" &
	RUN=$!
	t0=$(date +%s)
	prev=$c0
	for ((m = 1; m * 60 <= SOAK + 60; m++)); do
		# wake at each whole minute since the start (bounded: the loop ends a minute past SOAK)
		while (($(date +%s) < t0 + m * 60)); do
			kill -0 "$RUN" 2>/dev/null || break
			sleep 1
		done
		kill -0 "$RUN" 2>/dev/null || break
		cur=$(cpu_ticks "$TANDEM_PID")
		heap=$(metric go_memstats_heap_inuse_bytes)
		[[ $heap == "?" ]] || heap=$(awk -v b="$heap" 'BEGIN{printf "%.1f", b/1048576}')
		printf '%8s %9s %9s %13s %13s %10s %8s\n' "$m" "$(mb "$(rss_kb "$TANDEM_PID")")" "$(mb "$(hwm_kb "$TANDEM_PID")")" \
			"$(metric tandem_calls_active)" "$heap" "$(stat_col "$TMP/soak/stat.csv" 'SuccessfulCall(C)')" \
			"$(awk -v a="$prev" -v b="$cur" -v c="$CLK_TCK" 'BEGIN{printf "%.0f", 100*(b-a)/c/60}')"
		prev=$cur
	done
	wait "$RUN" || true
	c1=$(cpu_ticks "$TANDEM_PID")
	# run_uac ran in a subshell: read its figures from the stat file again
	f="$TMP/soak/stat.csv"
	OK=$(stat_col "$f" 'SuccessfulCall(C)')
	log "soak done: calls $SOAK_CALLS, ok $OK, failed $((SOAK_CALLS - OK)) (SIPp FailedCall $(stat_col "$f" 'FailedCall(C)')), achieved $(stat_col "$f" 'CallRate(C)') calls/s, tandem cpu $(secs $((c1 - c0)))s"
	log "after the run: active $(wait_drained 60), RSS $(mb "$(rss_kb "$TANDEM_PID")") MB, peak $(mb "$(hwm_kb "$TANDEM_PID")") MB"
	for ((w = 0; w < 6; w++)); do sleep 10; done
	log "60 s after the run: RSS $(mb "$(rss_kb "$TANDEM_PID")") MB, heap $(metric go_memstats_heap_inuse_bytes) bytes, outcomes: $(outcomes)"
	exit 0
fi
log "# tandem pid $TANDEM_PID ready on udp 127.0.0.1:$SIP_PORT, RSS at start $(mb "$IDLE0") MB"
log ""
log "## 1. SIPp UAC -> tandem -> SIPp UAS"
log "# cpu_s = utime+stime of the tandem process while SIPp ran; cpu% over SIPp's wall time; rss = VmRSS after the step"
log "# failed = calls - successful (SIPp's failures plus calls unfinished at -timeout); got/s = SIPp's achieved call rate"
if [[ ${SKIP_TANDEM_SWEEP:-0} == 1 ]]; then
	log "(skipped: SKIP_TANDEM_SWEEP=1)"
	BEST=0
else
	sweep tandem "$SIP_PORT"
fi
T_BEST=$BEST
log "# tandem outcomes after the sweep: $(outcomes)"
log "# tandem RSS after the sweep $(mb "$(rss_kb "$TANDEM_PID")") MB, peak (VmHWM) $(mb "$(hwm_kb "$TANDEM_PID")") MB"
log "highest clean rate through tandem: $T_BEST calls/s"

# ---- memory after a burst, on a fresh tandem --------------------------------------
log ""
if [[ -z $BURST_RATE ]]; then
	BURST_RATE=$T_BEST
	((BURST_RATE > 2000)) && BURST_RATE=2000
	((BURST_RATE > 0)) || BURST_RATE=${RATES%% *}
fi
log "## 2. memory after a burst of $BURST calls at $BURST_RATE calls/s (tandem restarted first)"
stop_tandem
start_tandem tandem-burst.log
# let the fresh process settle for a moment before the idle reading
for _ in 1 2 3 4 5 6 7 8 9 10; do sleep 0.2; done
IDLE=$(rss_kb "$TANDEM_PID")
log "idle RSS before the burst: $(mb "$IDLE") MB"
c0=$(cpu_ticks "$TANDEM_PID")
run_uac "$SIP_PORT" "$BURST_RATE" "$BURST" "$TMP/burst"
c1=$(cpu_ticks "$TANDEM_PID")
log "burst: ok $OK, failed $FAILED (unfinished $UNFINISHED), ${WALL}s, tandem cpu $(secs $((c1 - c0)))s ${WHY:+; $WHY}"
printf '%8s %9s %9s %13s %13s\n' "t_s" "rss_MB" "peak_MB" "calls_active" "go_heap_MB"
RSS60=
for ((t = 0; t <= WATCH_SECONDS; t += 10)); do
	r=$(rss_kb "$TANDEM_PID")
	if ((t == 60)); then RSS60=$r; fi
	heap=$(metric go_memstats_heap_inuse_bytes)
	[[ $heap == "?" ]] || heap=$(awk -v b="$heap" 'BEGIN{printf "%.1f", b/1048576}')
	printf '%8s %9s %9s %13s %13s\n' "$t" "$(mb "$r")" "$(mb "$(hwm_kb "$TANDEM_PID")")" "$(metric tandem_calls_active)" "$heap"
	if ((t + 10 <= WATCH_SECONDS)); then sleep 10; fi
done
PEAK=$(hwm_kb "$TANDEM_PID")
ACTIVE_END=$(metric tandem_calls_active)
log "tandem_calls_active at the end: $ACTIVE_END $([[ $ACTIVE_END == 0 ]] && echo '(0: every call was torn down)' || echo '(NOT 0: calls leaked or still draining)')"
log "# tandem outcomes after the burst: $(outcomes)"

# ---- Kamailio -------------------------------------------------------------------
K_BEST=
if [[ $SKIP_KAMAILIO != 1 ]]; then
	log ""
	log "## 3. SIPp UAC -> Kamailio (stateful, dispatcher) -> SIPp UAS  (cpu_s = all Kamailio processes)"
	if start_kamailio; then
		sweep kamailio "$KAM_PORT"
		K_BEST=$BEST
		log "highest clean rate through Kamailio: $K_BEST calls/s"
	else
		log "Kamailio did not start: skipped"
	fi
fi

# ---- summary ----------------------------------------------------------------------
log ""
log "## summary"
log "highest clean rate, tandem:   $T_BEST calls/s"
if [[ -n $K_BEST ]]; then
	log "highest clean rate, Kamailio: $K_BEST calls/s"
	log "ratio tandem/Kamailio:        $(awk -v a="$T_BEST" -v b="$K_BEST" 'BEGIN{ if (b > 0) printf "%.2f", a/b; else print "n/a (Kamailio had no clean rate)"}')"
fi
if [[ -n $RSS60 ]]; then RSS60=$(mb "$RSS60")" MB"; else RSS60="n/a (watch shorter than 60 s)"; fi
log "tandem RSS: at start $(mb "$IDLE0") MB; idle before the burst $(mb "$IDLE") MB; peak $(mb "$PEAK") MB; 60 s after the burst $RSS60"
log "tandem_calls_active at the end: $ACTIVE_END"
log "# highest clean rate = highest rate whose step had every call successful; rates are capped by the list tried"
exit 0
