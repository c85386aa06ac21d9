#!/usr/bin/env bash
# The efficiency benchmark, in one command: how close does minnow get to its drives?
#
#   ci/bench.sh            # ~10-15 min on a 2-core machine
#
# For each setup (4 and 16 drive directories, all in one temp dir on the same disk):
#   1. `minnow bench drives` measures the ceilings: sequential O_DIRECT write and read MiB/s and
#      durable 4 KiB commits/s, all drives at once (and each drive alone for the 4-drive setup);
#   2. for each object size (4 KiB, 1 MiB, 64 MiB) a fresh server on fresh drives, then
#      `minnow bench put` and `minnow bench get` at concurrency 1, 8 and 32, a few seconds each;
#      the server's peak RSS (VmHWM) is reset before every point and read after it.
# Then it prints a table (MiB/s, obj/s, p99, % of ceiling, server peak RSS) and writes it, with
# the exact commands, versions and raw JSON, to benches/runs/<date>/.
#
# Ceilings: PUT = drive write MiB/s x data/total shards; GET = drive read MiB/s; 4 KiB PUT =
# small commits/s / drives per set (each PUT commits one xl.meta per drive); 4 KiB GET has no
# drive ceiling (served from xl.meta) and is shown against the 5,000 obj/s target.
#
# The shared disk of the reference machine drifts by several times within minutes, so the
# 4 KiB PUT points get a ceiling of their own, measured back to back with them: small commits
# on fresh sibling directories right before the server starts and again right after the PUT
# points; the table uses the mean of the two and shows both.
#
# Deleting a run's files slows the next one down: ext4 without a journal (the reference
# machine's) does not reuse an inode within 30 s of freeing it, and walks past every such
# inode on each create. After each deletion the run waits BENCH_SETTLE seconds.
#
# The load generator runs on the same cores as the server: its own CPU use is in the raw JSON
# (`generator.cores_busy`) and in the table.
#
# Environment:
#   BENCH_DIR=DIR          parent of the temp drive dirs (a real disk, not tmpfs; default: the
#                          repo's target/bench-tmp)
#   BENCH_SETUPS="4 16"    drive counts
#   BENCH_SIZES="4KiB 1MiB 64MiB"
#   BENCH_CONCURRENCY="1 8 32"
#   BENCH_DURATION=6s      measured time per point
#   BENCH_DRIVE_SIZE=1GiB  bytes per drive for the sequential ceiling, up to 4 drives
#   BENCH_DRIVE_SIZE_MANY=256MiB   the same for setups of more than 4 drives (all at once only)
#   BENCH_OUT=DIR          where the results go (default benches/runs/<UTC date>, suffixed with
#                          the time if that exists)
#   BENCH_SETTLE=35        seconds to wait after deleting a run's files (see above)
#   BENCH_SKIP_BUILD=1     use target/release/minnow as it is
#
# `ci/bench.sh --table-only DIR` rebuilds DIR/README.md and DIR/results.json from DIR/raw.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$(pwd)"
BIN="$REPO/target/release/minnow"

SETUPS="${BENCH_SETUPS:-4 16}"
SIZES="${BENCH_SIZES:-4KiB 1MiB 64MiB}"
CONCURRENCY="${BENCH_CONCURRENCY:-1 8 32}"
DURATION="${BENCH_DURATION:-6s}"
DRIVE_SIZE="${BENCH_DRIVE_SIZE:-1GiB}"
DRIVE_SIZE_MANY="${BENCH_DRIVE_SIZE_MANY:-256MiB}"
COMMIT_DURATION=3s
SETTLE="${BENCH_SETTLE:-35}"

die() {
    echo "ci/bench.sh: $*" >&2
    exit 1
}

TABLE_ONLY=""
if [[ "${1:-}" == "--table-only" ]]; then
    [[ -d "${2:-}/raw" ]] || die "usage: ci/bench.sh --table-only DIR (a run directory with raw/)"
    TABLE_ONLY="$2"
fi

command -v python3 >/dev/null || die "python3 not found"
command -v curl >/dev/null || die "curl not found"

if [[ -z "$TABLE_ONLY" && "${BENCH_SKIP_BUILD:-}" != "1" ]]; then
    echo "==> cargo build --release --bin minnow"
    cargo build --release --bin minnow
fi
[[ -n "$TABLE_ONLY" || -x "$BIN" ]] || die "$BIN not found"

if [[ -n "$TABLE_ONLY" ]]; then
    OUT="$TABLE_ONLY"
else
    measure_everything() {
        # ---- where things go -----------------------------------------------------------------
        if [[ -n "${BENCH_OUT:-}" ]]; then
            OUT="$BENCH_OUT"
        else
            OUT="$REPO/benches/runs/$(date -u +%F)"
            [[ -e "$OUT" ]] && OUT="$OUT-$(date -u +%H%M%S)"
        fi
        mkdir -p "$OUT/raw"
        COMMANDS="$OUT/commands.txt"
        : >"$COMMANDS"

        PARENT="${BENCH_DIR:-$REPO/target/bench-tmp}"
        mkdir -p "$PARENT"
        FS="$(stat -f -c %T "$PARENT")"
        [[ "$FS" == "tmpfs" || "$FS" == "ramfs" ]] && die "$PARENT is $FS (no O_DIRECT): set BENCH_DIR to a real disk"
        WORK="$(mktemp -d "$PARENT/minnow-bench.XXXXXX")"

        SERVER_PID=""
        cleanup() {
            if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
                kill -TERM "$SERVER_PID" 2>/dev/null || true
                sleep 1
                kill -KILL "$SERVER_PID" 2>/dev/null || true
            fi
            rm -rf "$WORK"
        }
        trap cleanup EXIT

        # Run a command, recording it exactly in commands.txt.
        record() {
            printf '%q ' "$@" | sed "s|$REPO/||g; s|$WORK|\$WORK|g" >>"$COMMANDS"
            echo >>"$COMMANDS"
            "$@"
        }

        # ---- versions and machine -----------------------------------------------------------------
        {
            echo "date_utc: $(date -u +%FT%TZ)"
            echo "minnow: $("$BIN" --version 2>/dev/null || echo unknown)"
            echo "git: $(git rev-parse HEAD 2>/dev/null || echo 'no commit')$(git diff --quiet HEAD 2>/dev/null || echo ' (uncommitted changes)')"
            echo "rustc: $(rustc --version 2>/dev/null || echo unknown)"
            echo "kernel: $(uname -sr)"
            echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs allowed"
            echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
            dev="$(df --output=source "$PARENT" | tail -1)"
            fstype="$(findmnt -no FSTYPE -T "$PARENT" 2>/dev/null || echo "$FS")"
            model="$(lsblk -dno MODEL "$dev" 2>/dev/null | xargs || true)"
            echo "drive dirs: $PARENT ($fstype on $dev${model:+, $model})"
            echo "memlock: $(ulimit -l) KiB"
        } >"$OUT/versions.txt"
        cat "$OUT/versions.txt"

        free_port() {
            python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
        }

        # Delete a finished run's files, then let the freed inodes age (see the header).
        remove_and_settle() {
            rm -rf "$1"
            sync
            echo "--> deleted ${1#$WORK/}; waiting ${SETTLE}s for the freed inodes to age"
            sleep "$SETTLE"
        }

        # commit_ceiling N SIZE WHEN: small commits on fresh sibling dirs of the drives, kept until
        # the end (deleting them would slow the run that follows).
        commit_ceiling() {
            local n=$1 size=$2 when=$3 dir="$WORK/commits-d$1-$2-$3" dirs=()
            for i in $(seq 1 "$n"); do
                mkdir -p "$dir/d$i"
                dirs+=("$dir/d$i")
            done
            echo "--> $n drives: small-commit ceiling ($when the $size PUT points)"
            record "$BIN" bench drives "${dirs[@]}" --all-only --size 4MiB --duration "$COMMIT_DURATION" \
                --json "$OUT/raw/commits-d$n-$size-$when.json" >/dev/null ||
                echo "ci/bench.sh: commit ceiling $when $size failed; the table falls back to the setup's" >&2
        }

        # start_server N PORT: a fresh server on $WORK/dN/d1..dN; sets SERVER_PID.
        start_server() {
            local n=$1 port=$2 dir="$WORK/d$1"
            [[ -e "$dir" ]] && remove_and_settle "$dir"
            mkdir -p "$dir"
            local drives=()
            for i in $(seq 1 "$n"); do
                mkdir -p "$dir/d$i"
                drives+=("$dir/d$i")
            done
            printf '%q ' "$BIN" server --address "127.0.0.1:$port" "${drives[@]}" | sed "s|$REPO/||g; s|$WORK|\$WORK|g" >>"$COMMANDS"
            echo " &" >>"$COMMANDS"
            "$BIN" server --address "127.0.0.1:$port" "${drives[@]}" >"$WORK/server.out" 2>"$WORK/server.err" &
            SERVER_PID=$!
            local code deadline=$((SECONDS + 30))
            while ((SECONDS < deadline)); do
                code="$(curl -s -m 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/minio/health/ready" || true)"
                [[ "$code" == "200" ]] && return 0
                kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK/server.err" >&2; die "server exited at start"; }
                sleep 0.1
            done
            code="$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/minio/health/live" || true)"
            [[ "$code" == "200" ]] || die "server on $n drives not live after 30 s"
            echo "ci/bench.sh: $n drives: /minio/health/ready never answered 200; going on since /live does" >&2
            echo "- $n drives: the server's /minio/health/ready never answered 200 within 30 s of start (/live did); runs went ahead" >>"$OUT/notes.txt"
        }

        stop_server() {
            local label=$1
            if [[ -n "$SERVER_PID" ]]; then
                kill -TERM "$SERVER_PID" 2>/dev/null || true
                for _ in $(seq 1 100); do
                    kill -0 "$SERVER_PID" 2>/dev/null || break
                    sleep 0.1
                done
                kill -KILL "$SERVER_PID" 2>/dev/null || true
                wait "$SERVER_PID" 2>/dev/null || true
                SERVER_PID=""
            fi
            cp "$WORK/server.out" "$OUT/raw/server-$label.banner.txt"
            # Logs can be large (one line per failed request): keep the end.
            tail -200 "$WORK/server.err" >"$OUT/raw/server-$label.log-tail.txt"
        }

        reset_peak_rss() {
            echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || true
        }

        peak_rss_kib() {
            local kib
            kib="$(awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || true)"
            echo "${kib:-0}"
        }

        objects_for() { # size conc -> objects uploaded before a GET run
            case "$1" in
            4KiB) echo 1000 ;;
            1MiB) echo 128 ;;
            *) echo $(($2 > 16 ? $2 : 16)) ;;
            esac
        }

        POINTS="$OUT/raw/points.tsv"
        printf 'drives\top\tsize\tconcurrent\tjson\tpeak_rss_kib\tbanner\tstatus\n' >"$POINTS"
        restarts=0

        for n in $SETUPS; do
            echo
            echo "==> $n drives: ceilings"
            mkdir -p "$WORK/d$n"
            dirs=()
            for i in $(seq 1 "$n"); do
                mkdir -p "$WORK/d$n/d$i"
                dirs+=("$WORK/d$n/d$i")
            done
            drive_args=(--size "$DRIVE_SIZE" --duration "$COMMIT_DURATION")
            if [[ "$n" -gt 4 ]]; then
                # Per-drive phases would take minutes; the ceiling needs the all-at-once figures only.
                drive_args=(--all-only --size "$DRIVE_SIZE_MANY" --duration "$COMMIT_DURATION")
            fi
            record "$BIN" bench drives "${dirs[@]}" "${drive_args[@]}" --json "$OUT/raw/drives-$n.json"
            remove_and_settle "$WORK/d$n"

            for size in $SIZES; do
                port="$(free_port)"
                echo
                echo "==> $n drives, $size objects: server on 127.0.0.1:$port"
                small=0
                [[ "$size" == *KiB ]] && small=1
                if ((small)); then
                    [[ -e "$WORK/d$n" ]] && remove_and_settle "$WORK/d$n"
                    commit_ceiling "$n" "$size" before
                fi
                start_server "$n" "$port"
                for op in put get; do
                    ((small)) && [[ "$op" == get ]] && commit_ceiling "$n" "$size" after
                    for c in $CONCURRENCY; do
                        json="$OUT/raw/$op-d$n-$size-c$c.json"
                        extra=()
                        [[ "$op" == "get" ]] && extra=(--objects "$(objects_for "$size" "$c")")
                        reset_peak_rss
                        echo "--> $op $size x$c"
                        if ! record timeout 600 "$BIN" bench "$op" --host "127.0.0.1:$port" --bucket "bench-$op" \
                            --obj.size "$size" --concurrent "$c" --duration "$DURATION" --noclear --request-timeout 60s \
                            "${extra[@]}" --json "$json"; then
                            echo "ci/bench.sh: $op $size x$c failed (see above); continuing" >&2
                            rm -f "$json"
                        fi
                        status=ok
                        rss="$(peak_rss_kib)"
                        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
                            status="server died"
                        elif [[ "$(curl -s -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/minio/health/live" || true)" != "200" ]]; then
                            status="server hung"
                        fi
                        if [[ "$status" != ok ]]; then
                            # Keep going on a fresh server; the table says what happened to this point.
                            restarts=$((restarts + 1))
                            echo "ci/bench.sh: $status during $op $size x$c; restarting it" >&2
                            echo "- $n drives, $op $size x$c: $status (log tail: raw/server-d$n-$size-restart$restarts.log-tail.txt); later points ran on a fresh server" >>"$OUT/notes.txt"
                            stop_server "d$n-$size-restart$restarts"
                            port="$(free_port)"
                            start_server "$n" "$port"
                        fi
                        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$op" "$size" "$c" "raw/${json##*/}" "$rss" \
                            "raw/server-d$n-$size.banner.txt" "$status" >>"$POINTS"
                    done
                done
                stop_server "d$n-$size"
            done
        done
    }
    measure_everything
fi

# ---- the table ------------------------------------------------------------------------------
python3 - "$OUT" <<'EOF'
import json, os, re, sys

out = sys.argv[1]
raw = os.path.join(out, "raw")
rows = [line.rstrip("\n").split("\t") for line in open(os.path.join(raw, "points.tsv"))][1:]

def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

def layout(banner_path):
    """(drives per set, data shards) from the server banner."""
    text = open(banner_path).read() if os.path.exists(banner_path) else ""
    m_set = re.search(r"set\(s\) of (\d+)", text)
    m_data = re.search(r"STANDARD EC:(\d+) \(data (\d+)\)", text)
    set_size = int(m_set.group(1)) if m_set else None
    data = int(m_data.group(2)) if m_data else None
    return set_size, data

drives = {}
# (drives, size) -> {"before": commits/s, "after": commits/s}: the small-PUT ceilings measured
# back to back with their points.
adjacent = {}
for name in os.listdir(raw):
    m = re.fullmatch(r"drives-(\d+)\.json", name)
    if m:
        drives[int(m.group(1))] = load(os.path.join(raw, name))
    m = re.fullmatch(r"commits-d(\d+)-(\w+)-(before|after)\.json", name)
    if m and (report := load(os.path.join(raw, name))):
        adjacent.setdefault((int(m.group(1)), m.group(2)), {})[m.group(3)] = report["small_commits_per_s"]

size_bytes = {"4KiB": 4096, "1MiB": 1 << 20, "64MiB": 64 << 20}
table, results = [], []
for n, op, size, conc, path, rss_kib, banner, status in rows:
    n, conc = int(n), int(conc)
    path, banner = os.path.join(out, path), os.path.join(out, banner)
    died = status != "ok"
    report = load(path)
    d = drives.get(n) or {}
    set_size, data = layout(banner)
    entry = {"drives": n, "op": op.upper(), "size": size, "concurrent": conc,
             "set_size": set_size, "data_shards": data,
             "server_peak_rss_mib": round(int(rss_kib or 0) / 1024, 1) if not died else None,
             "server_status": status}
    rss_text = entry["server_peak_rss_mib"] if not died else "-"
    summary = None
    if report:
        summary = next((o for o in report["ops"] if o["op"] == op.upper()), None)
    if summary is None:
        entry["failed"] = True
        results.append(entry)
        table.append([n, op.upper(), size, conc, "-", "-", "-", "-", "-", rss_text,
                      "run failed" + (f", {status}" if died else "")])
        continue
    small = size_bytes.get(size, 0) <= 64 * 1024
    ceiling, unit, pct, ceiling_note = None, "", None, ""
    if op == "put" and small:
        near = adjacent.get((n, size), {})
        if near and set_size:
            commits = sum(near.values()) / len(near)
            ceiling, unit = commits / set_size, "obj/s"
            ceiling_note = ", ceiling from " + " / ".join(
                f"{near[k]:.0f} commits/s {k}" for k in ("before", "after") if k in near)
        elif d.get("small_commits_per_s") and set_size:
            ceiling, unit = d["small_commits_per_s"] / set_size, "obj/s"
        if ceiling:
            pct = 100 * summary["obj_per_s"] / ceiling
    elif op == "put":
        if d.get("write_mib_per_s") and set_size and data:
            ceiling, unit = d["write_mib_per_s"] * data / set_size, "MiB/s"
            pct = 100 * summary["mib_per_s"] / ceiling
    elif op == "get" and small:
        ceiling, unit = 5000.0, "obj/s target"
        pct = 100 * summary["obj_per_s"] / ceiling
    else:
        if d.get("read_mib_per_s"):
            ceiling, unit = d["read_mib_per_s"], "MiB/s"
            pct = 100 * summary["mib_per_s"] / ceiling
    entry.update({
        "count": summary["count"], "errors": summary["errors"],
        "errors_by_code": summary.get("errors_by_code", {}),
        "mib_per_s": summary["mib_per_s"], "obj_per_s": summary["obj_per_s"],
        "latency_ms": summary["latency_ms"],
        "ceiling": ceiling, "ceiling_unit": unit, "pct_of_ceiling": pct,
        "generator_cores_busy": report["generator"]["cores_busy"],
        "generator_ns_per_byte": report["generator"]["ns_per_byte"],
    })
    results.append(entry)
    table.append([
        n, op.upper(), size, conc,
        f"{summary['mib_per_s']:.1f}", f"{summary['obj_per_s']:.1f}",
        f"{summary['latency_ms']['p99']:.1f}",
        f"{ceiling:.0f} {unit}" if ceiling else "-",
        f"{pct:.0f}%" if pct is not None else "-",
        rss_text,
        f"{summary['errors']} err, gen {report['generator']['cores_busy']:.2f} cores"
        + ceiling_note + (f", {status}" if died else ""),
    ])

header = ["drives", "op", "size", "conc", "MiB/s", "obj/s", "p99 ms", "ceiling", "% of ceiling", "server peak RSS MiB", "notes"]
def md_table(head, body):
    lines = ["| " + " | ".join(map(str, head)) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in body]
    return "\n".join(lines)

ceil_rows = []
for n in sorted(drives):
    d = drives[n]
    if not d:
        continue
    ceil_rows.append([n, f"{d['write_mib_per_s']:.0f}", f"{d['read_mib_per_s']:.0f}",
                      f"{d['small_commits_per_s']:.0f}", f"{d['small_commit_p99_ms']:.1f}",
                      f"{d['size_bytes'] >> 20} MiB x {n}, {d['block_bytes'] >> 20} MiB blocks, "
                      f"{d['depth']} writes / {d.get('read_depth', d['depth'])} reads in flight, "
                      f"{d['concurrent']} commit loops per drive"])
per_drive_rows = []
for n in sorted(drives):
    for pd in (drives[n] or {}).get("per_drive", []):
        per_drive_rows.append([n, os.path.basename(pd["path"]), f"{pd['write_mib_per_s']:.0f}",
                               f"{pd['read_mib_per_s']:.0f}", f"{pd['small_commits_per_s']:.0f}"])

def find(n, op, size, conc):
    return next((r for r in results if r["drives"] == n and r["op"] == op and r["size"] == size
                 and r["concurrent"] == conc and not r.get("failed")), None)

targets = []
def target(label, entry, ok_fn, show):
    if entry is None:
        targets.append(f"- {label}: not measured")
    else:
        targets.append(f"- {label}: {show(entry)} -> {'met' if ok_fn(entry) else 'NOT met'}")
pct = lambda e: e.get("pct_of_ceiling") or 0.0
target("64 MiB x8 PUT >= 70% of ceiling (4 drives)", find(4, "PUT", "64MiB", 8), lambda e: pct(e) >= 70, lambda e: f"{pct(e):.0f}%")
target("64 MiB x8 GET >= 80% of ceiling (4 drives)", find(4, "GET", "64MiB", 8), lambda e: pct(e) >= 80, lambda e: f"{pct(e):.0f}%")
target("4 KiB x32 PUT >= 60% of commits/s / drives per set (4 drives)", find(4, "PUT", "4KiB", 32), lambda e: pct(e) >= 60, lambda e: f"{pct(e):.0f}% ({e['obj_per_s']:.0f} obj/s)")
target("4 KiB x32 GET >= 5,000 obj/s (4 drives)", find(4, "GET", "4KiB", 32), lambda e: e["obj_per_s"] >= 5000, lambda e: f"{e['obj_per_s']:.0f} obj/s")
target("server peak RSS <= 256 MiB at 64 MiB x32 PUT (4 drives)", find(4, "PUT", "64MiB", 32), lambda e: (e["server_peak_rss_mib"] or 1e9) <= 256, lambda e: f"{e['server_peak_rss_mib']} MiB")

versions = open(os.path.join(out, "versions.txt")).read()
commands = open(os.path.join(out, "commands.txt")).read()
md = [
    "# minnow efficiency run",
    "",
    "Produced by `ci/bench.sh`. Ceilings: PUT = drive write MiB/s x data/total shards; GET = drive "
    "read MiB/s; 4 KiB PUT = durable 4 KiB commits/s / drives per set, measured right before and "
    "right after the 4 KiB PUT points (mean of the two, both in the notes column); 4 KiB GET "
    "against the 5,000 obj/s target. The load generator shares the cores with the server (its "
    "CPU use is in the notes column, in cores).",
    "",
    "## Versions and machine",
    "",
    "```",
    versions.rstrip(),
    "```",
    "",
    "## Drive ceilings (`minnow bench drives`, all drives at once)",
    "",
    md_table(["drives", "write MiB/s", "read MiB/s", "4 KiB commits/s", "commit p99 ms", "how"], ceil_rows),
    "",
]
if per_drive_rows:
    md += ["Each drive alone:", "", md_table(["setup", "drive", "write MiB/s", "read MiB/s", "commits/s"], per_drive_rows), ""]
notes_path = os.path.join(out, "notes.txt")
if os.path.exists(notes_path):
    md += ["## Notes", "", open(notes_path).read().rstrip(), ""]
md += [
    "## PUT and GET",
    "",
    md_table(header, table),
    "",
    "## Targets (issue 3)",
    "",
    *targets,
    "",
    "## Exact commands",
    "",
    "`$WORK` is a fresh temp dir; every server starts on empty drive dirs, and each deletion "
    f"of a finished run's files is followed by a {os.environ.get('BENCH_SETTLE', '35')} s wait "
    "(ext4 without a journal will not reuse an inode within 30 s of freeing it).",
    "",
    "```",
    commands.rstrip(),
    "```",
    "",
    "Raw JSON of every run is in `raw/`.",
    "",
]
with open(os.path.join(out, "README.md"), "w") as f:
    f.write("\n".join(md))
with open(os.path.join(out, "results.json"), "w") as f:
    json.dump({"drives": drives, "points": results}, f, indent=2)

widths = [max(len(str(x)) for x in col) for col in zip(header, *table)] if table else []
print()
for r in [header] + table:
    print("  ".join(str(x).rjust(w) for x, w in zip(r, widths)))
print()
print("\n".join(targets))
EOF
echo
echo "ci/bench.sh: results in ${OUT#$REPO/}/"
