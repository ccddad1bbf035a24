#!/usr/bin/env python3
"""make bench: the tutorials' timings from the student's own code, and the
reference pool (12) and queue (08) against the libraries C programmers use.

    python3 tools/kit/bench.py [--exercise NN] [--impl student|reference]
                               [--rounds N]

Each benchmark is a plain C program in tests/bench/ built here with
`gcc -O2` from the exercise's student file (exercises/NN/) or reference
(solutions/NN/).  A program runs one round of side-by-side comparisons;
this driver runs it several rounds (each round rotates the contenders'
order), then prints every figure as median [min-max] and writes, under
build/bench/<impl>/, the tables (results.txt, results.json) and charts
(*.png, with gnuplot when it is installed: `make deps-bench`).
Standard library only.
"""
import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
BENCH_DIR = ROOT / "tests" / "bench"
STRICT = ["-std=c11", "-D_GNU_SOURCE", "-O2", "-g", "-Wall", "-Wextra",
          "-Wpedantic", "-Werror", "-pthread"]


def pkg_config(*names):
    try:
        out = subprocess.run(["pkg-config", "--cflags", "--libs", *names],
                             capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.split()


# One entry per benchmark: its program, the exercises whose student (or
# reference) file it links, extra sources and libraries, how many rounds.
BENCHES = {
    "04": dict(program="bench04.c", exercises={"04_io_bound": "io_bound.c"},
               rounds=3, timeout=30,
               why="three 1-s blocking tasks: 3 s one after another, "
                   "about 1 s in threads, and no CPU used while waiting"),
    "08": dict(program="bench08.c",
               exercises={"08_bounded_queue": "queue.c"},
               sources=["fast_queue.c", "batch_queue.c"],
               packages=["glib-2.0", "ck"],
               rounds=5, timeout=60,
               why="the queue of 08 against a pipe, GLib's GAsyncQueue, "
                   "a concurrencykit ring and the fast variant"),
    "12": dict(program="bench12.c",
               exercises={"12_thread_pool": "thread_pool.c"},
               sources=["fast_pool.c", "/usr/share/cthreadpool/thpool.c"],
               packages=["glib-2.0", "libuv"],
               flags=["-fopenmp", "-I/usr/include/cthreadpool"],
               rounds=5, timeout=60,
               why="the pool of 12 against GThreadPool, thpool, libuv, "
                   "OpenMP tasks and the fast variant; the tutorials' map"),
    "13": dict(program="bench13.c",
               exercises={"13_cpu_bound": "parallel_sum.c"},
               rounds=5, timeout=60,
               why="CPU-bound work on 1..nproc threads as speed-up over "
                   "serial, with and without a homemade global lock"),
    "14": dict(program="bench14.c",
               exercises={"14_process_pool": "process_pool.c",
                          "13_cpu_bound": "parallel_sum.c"},
               rounds=5, timeout=60,
               why="the same CPU-bound work on 1..nproc processes (14) "
                   "and threads (13), as speed-up over serial"),
}

# The targets: (label, numerator, denominator-or-alternatives,
# goal, "le" = ratio at most goal / "ge" = at least).  A key is
# (table, series, x); several denominators mean "the best of them".
TARGETS = [
    ("12: pool bulk per-task cost / best of libuv, thpool, GLib",
     "pool_bulk", "{pool}", "0", ["libuv uv_queue_work", "thpool",
                                  "GThreadPool"], 1.0, "le"),
    ("12: pool submit-then-wait latency / libuv's", "pool_latency", "{pool}",
     "one task", ["libuv uv_queue_work"], 0.7, "le"),
    ("08: pipe's cost per item / the queue's (1P1C)", "queue_1p1c", "pipe",
     "1P1C", ["{queue}"], 8.0, "ge-inverse"),
    ("08: queue's cost per item / ck SPSC ring's (1P1C)", "queue_1p1c",
     "{queue}", "1P1C", ["ck_ring SPSC"], 3.0, "le"),
]


def resolve_exercise(text):
    for key in BENCHES:
        if text == key or text.startswith(key + "_") or \
                text.lstrip("0") == key.lstrip("0"):
            return key
    return None


def build(key, impl, out_dir):
    spec = BENCHES[key]
    flags = list(STRICT) + ["-I", str(BENCH_DIR), "-I",
                            str(ROOT / "tests" / "harness")]
    sources = [str(BENCH_DIR / spec["program"])]
    for exercise, edit in spec["exercises"].items():
        flags += ["-I", str(ROOT / "exercises" / exercise)]
        folder = "exercises" if impl == "student" else "solutions"
        sources.append(str(ROOT / folder / exercise / edit))
    for source in spec.get("sources", []):
        sources.append(source if source.startswith("/")
                       else str(BENCH_DIR / source))
    libs = []
    if spec.get("packages"):
        found = pkg_config(*spec["packages"])
        if found is None:
            return None, ("pkg-config finds no " + " ".join(spec["packages"])
                          + ": run `make deps-bench` first")
        libs = found
    missing = [s for s in sources if not os.path.exists(s)]
    if missing:
        return None, "missing " + ", ".join(missing) + \
            ": run `make deps-bench` first"
    binary = out_dir / ("bench" + key)
    command = ["gcc", *flags, *spec.get("flags", []), "-o", str(binary),
               *sources, *libs, "-lm"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return None, "could not build:\n  " + " ".join(command) + "\n" + \
            done.stderr[-3000:]
    return binary, None


def load():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def run_rounds(key, binary, rounds, timeout):
    """Runs the program `rounds` times; returns (tables, values, notes,
    error).  values[(table, series, x)] is the list over rounds."""
    tables, values, notes = {}, {}, []
    for number in range(rounds):
        try:
            done = subprocess.run([str(binary), str(number)],
                                  capture_output=True, text=True,
                                  timeout=timeout, cwd=ROOT)
        except subprocess.TimeoutExpired:
            return tables, values, notes, (
                f"round {number + 1} did not finish within {timeout} s: "
                f"does the code wait forever? `make test EX={key}` says "
                "what is wrong")
        if done.returncode != 0:
            return tables, values, notes, (
                f"round {number + 1} failed (exit status {done.returncode}): "
                + (done.stderr.strip()[-600:] or "no message")
                + f"\n  `make test EX={key}` says what is wrong")
        for line in done.stdout.splitlines():
            fields = line.split("\t")
            if fields[0] == "table" and len(fields) == 4:
                tables.setdefault(fields[1], (fields[2], fields[3], []))
            elif fields[0] == "value" and len(fields) == 5:
                table, series, x, value = fields[1:]
                columns = tables.setdefault(table, ("", table, []))[2]
                if x not in columns:
                    columns.append(x)
                values.setdefault((table, series, x), []).append(float(value))
            elif fields[0] == "note" and number == 0:
                notes.append("\t".join(fields[1:]))
        print(f"  round {number + 1}/{rounds} done (load {load()})",
              flush=True)
    for unit, title, columns in tables.values():
        if columns and all(c.replace(".", "", 1).isdigit() for c in columns):
            columns.sort(key=float)
    return tables, values, notes, None


def fmt(number):
    if number == 0:
        return "0"
    if abs(number) >= 100:
        return f"{number:.0f}"
    if abs(number) >= 10:
        return f"{number:.1f}"
    if abs(number) >= 1:
        return f"{number:.2f}"
    return f"{number:.3g}"


def cell(samples):
    if not samples:
        return "-"
    middle = statistics.median(samples)
    if len(samples) == 1:
        return fmt(middle)
    return f"{fmt(middle)} [{fmt(min(samples))}-{fmt(max(samples))}]"


def render_table(table, unit, title, columns, values):
    series = []
    for (t, s, _x) in values:
        if t == table and s not in series:
            series.append(s)
    header = [f"{title}", f"  unit: {unit}; median [min-max] of the rounds"]
    rows = [["", *columns]] + [
        [s, *(cell(values.get((table, s, x), [])) for x in columns)]
        for s in series]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  " + "  ".join(text.ljust(widths[i]) if i == 0 else
                              text.rjust(widths[i])
                              for i, text in enumerate(row)) for row in rows]
    return "\n".join(header + lines)


def chart(table, unit, title, columns, values, out_dir, ideal=False,
          logy=False, xlabel=""):
    """A line chart of the table's medians (x must be numbers), with
    error bars for the min-max spread; gnuplot writes the PNG."""
    gnuplot = shutil.which("gnuplot")
    if gnuplot is None:
        return None
    series = []
    for (t, s, _x) in values:
        if t == table and s not in series:
            series.append(s)
    data = out_dir / f"{table}.dat"
    with open(data, "w") as f:
        for s in series:
            f.write(f'# "{s}"\n')
            for position, x in enumerate(columns):
                samples = values.get((table, s, x))
                if samples:
                    at = x if ideal else position
                    f.write(f"{at} {statistics.median(samples)} "
                            f"{min(samples)} {max(samples)}\n")
            f.write("\n\n")
    png = out_dir / f"{table}.png"
    xs = [float(x) for x in columns] if ideal else list(range(len(columns)))
    tics = ", ".join(f'"{x}" {x if ideal else i}'
                     for i, x in enumerate(columns))
    plots = [f'"{data}" index {i} using 1:2:3:4 with yerrorlines '
             f'lw 2 title "{s}"' for i, s in enumerate(series)]
    if ideal:
        plots.append(f'x with lines dt 2 lc rgb "gray40" title "ideal '
                     f'(speed-up = workers)"')
    script = "\n".join([
        'set terminal pngcairo size 1000,560 font "sans,11"'
        if "pngcairo" in terminals(gnuplot) else
        'set terminal png size 1000,560',
        f'set output "{png}"',
        f'set title "{title}" noenhanced',  # "\\n" breaks the line
        f'set ylabel "{unit}" noenhanced',
        'set key outside right top noenhanced',
        f'set xlabel "{xlabel}" noenhanced',
        'set grid',
        f'set xrange [{min(xs) - 0.2}:{max(xs) + 0.2}]',
        'set yrange [0:*]' if not logy else 'set logscale y',
        f'set xtics ({tics})',
        "plot " + ", ".join(plots),
    ]) + "\n"
    done = subprocess.run([gnuplot], input=script, text=True,
                          capture_output=True)
    if done.returncode != 0:
        print("  gnuplot: " + done.stderr.strip()[-400:])
        return None
    return png


_terminals = None


def terminals(gnuplot):
    global _terminals
    if _terminals is None:
        done = subprocess.run([gnuplot, "-e", "set terminal"],
                              capture_output=True, text=True)
        _terminals = done.stdout + done.stderr
    return _terminals


CHARTS = {
    # table: (x label for the chart title, ideal line?, log scale?)
    "cpu13": dict(ideal=True, xlabel="threads"),
    "cpu14": dict(ideal=True, xlabel="processes or threads"),
    "pool_bulk": dict(logy=True, xlabel="work per task (us)"),
}


def targets(values, impl):
    names = {"{pool}": "pool (12)", "{queue}": "queue (08)"}
    lines = []
    for label, table, num, x, dens, goal, kind in TARGETS:
        for variant, rename in (
                ("reference" if impl == "reference" else "student", {}),
                ("fast pool / fast queue", {"pool (12)": "fast pool",
                                            "queue (08)": "fast queue"}),
                ("batch queue",
                 {"queue (08)": "batch queue (put 64, get all)"}),
                ("fast pool, submit_many",
                 {"pool (12)": "fast pool, submit_many"})):
            def key(series):
                series = names.get(series, series)
                return (table, rename.get(series, series), x)
            if variant == "batch queue" and not table.startswith("queue"):
                continue
            if variant.endswith("submit_many") and table != "pool_bulk":
                continue
            top = values.get(key(num))
            bottoms = [values.get(key(d)) for d in dens]
            bottoms = [b for b in bottoms if b]
            if not top or not bottoms:
                continue
            # Per round: the ratio to the best contender of that round.
            ratios = []
            for i in range(min(len(top), *(len(b) for b in bottoms))):
                best = min(b[i] for b in bottoms)
                ratios.append(top[i] / best if best else float("inf"))
            ratio = statistics.median(ratios)
            if kind == "ge-inverse":
                met = ratio >= goal
                want = f">= {goal:g}"
            else:
                met = ratio <= goal
                want = f"<= {goal:g}"
            lines.append(f"  {label} [{variant}]: {ratio:.2f}x "
                         f"[{min(ratios):.2f}-{max(ratios):.2f}] "
                         f"(target {want}): {'met' if met else 'NOT met'}")
    for table in ("cpu13", "cpu14"):
        cores = os.cpu_count() or 1
        for (t, s, x), samples in sorted(values.items()):
            if t == table and x == str(cores) and "lock" not in s:
                speed = statistics.median(samples)
                goal = 0.9 * cores
                lines.append(f"  {t[-2:]}: speed-up of {s} on {cores} "
                             f"workers: {speed:.2f}x = "
                             f"{speed / cores:.2f} x cores (target >= 0.9): "
                             f"{'met' if speed >= goal else 'NOT met'}")
    return lines


def main(argv):
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--exercise", "-e")
    parser.add_argument("--impl", default="student",
                        choices=["student", "reference"])
    parser.add_argument("--rounds", type=int)
    options = parser.parse_args(argv)

    if options.exercise:
        key = resolve_exercise(options.exercise)
        if key is None:
            print(f"bench: no benchmark for exercise {options.exercise}; "
                  f"there are: {', '.join(BENCHES)}", file=sys.stderr)
            return 2
        keys = [key]
    else:
        keys = list(BENCHES)
    out_dir = ROOT / "build" / "bench" / options.impl
    out_dir.mkdir(parents=True, exist_ok=True)
    code = "students' files (exercises/)" if options.impl == "student" \
        else "reference solutions (solutions/)"
    print(f"bench: {code}, {os.cpu_count()} cores, load {load()}")

    # failures: not measured (the code under test failed: a stub does);
    # broken: could not even be built (missing dependency): exit status 1.
    report, all_values, charts, failures, broken = [], {}, [], [], []
    started = time.monotonic()
    for key in keys:
        spec = BENCHES[key]
        print(f"\n== {key}: {spec['why']}", flush=True)
        binary, error = build(key, options.impl, out_dir)
        if error:
            print("  " + error)
            failures.append(key)
            broken.append(key)
            continue
        rounds = options.rounds or spec["rounds"]
        load_before = load()
        tables, values, notes, error = run_rounds(key, binary, rounds,
                                                  spec["timeout"])
        if error:
            print("  " + error)
            failures.append(key)
            if not values:
                continue
        section = [f"== {key}: {spec['why']}",
                   f"   {rounds} rounds; load average before {load_before}, "
                   f"after {load()} ({os.cpu_count()} cores)"]
        for table, (unit, title, columns) in tables.items():
            section.append(render_table(table, unit, title, columns, values))
            if table in CHARTS:
                png = chart(table, unit,
                            f"{title}\\n(median, bars min-max of {rounds} "
                            f"rounds; load {load_before.split()[0]} on "
                            f"{os.cpu_count()} cores)",
                            columns, values, out_dir, **CHARTS[table])
                if png:
                    charts.append(png)
                    section.append(f"  chart: {png.relative_to(ROOT)}")
        if notes:
            section.append("\n".join("  " + n for n in notes))
        text = "\n\n".join(section)
        print("\n" + "\n\n".join(section[1:]), flush=True)
        report.append(text)
        all_values.update(values)

    # The targets are about the reference solutions; a student's
    # stub can look "fast" by doing nothing in threads.
    goal_lines = targets(all_values, options.impl) \
        if options.impl == "reference" else []
    if goal_lines:
        text = "Targets (issue 14), ratios of the same rounds, median " \
               "[min-max]:\n" + "\n".join(goal_lines)
        print("\n" + text)
        report.append(text)
    (out_dir / "results.txt").write_text("\n\n".join(report) + "\n")
    (out_dir / "results.json").write_text(json.dumps(
        {"|".join(k): v for k, v in all_values.items()}, indent=1) + "\n")
    print(f"\nbench: {time.monotonic() - started:.0f} s; tables in "
          f"{(out_dir / 'results.txt').relative_to(ROOT)}"
          + (f", charts: {', '.join(str(c.relative_to(ROOT)) for c in charts)}"
             if charts else
             ("" if shutil.which("gnuplot") else
              " (no charts: gnuplot is missing, `make deps-bench`)")))
    if failures:
        print("bench: not measured: " + ", ".join(failures))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
