"""Reads the output of scripts/bench-compare and prints each performance target beside what this run
measured, and whether the run met it. Usage: python3 scripts/bench-summary.py compare.log"""

import re
import sys


def sections(text):
    """Each '### title' with the lines under it."""
    found, title = {}, None
    for line in text.splitlines():
        if line.startswith("### "):
            title = line[4:].strip()
            found[title] = []
        elif title is not None:
            found[title].append(line)
    return found


def rate(lines):
    """Sends or cycles a second, from the benchmark's 'sends: … = N/s' or 'full cycles …: … = N/s' line."""
    for line in lines:
        match = re.search(r"= (\d+)/s$", line)
        if match:
            return int(match.group(1))
    return None


def send_p99(lines):
    """p99 of the 'send' row: operation count fail p50 p90 p99 p99.9 max."""
    for line in lines:
        fields = line.split()
        if fields[:1] == ["send"] and len(fields) == 8:
            return float(fields[5])
    return None


def wrk(lines):
    for line in lines:
        match = re.search(r"durable sends: (\d+)/s .*p99 ([\d.]+) ms, p99\.9 [\d.]+ ms, max ([\d.]+) ms", line)
        if match:
            return int(match.group(1)), float(match.group(2)), float(match.group(3))
    return None


def main(path):
    runs = sections(open(path, encoding="utf-8", errors="replace").read())

    def run(title):  # as scripts/bench-compare titles its runs
        return runs.get(title, [])

    def pairs(first, second):
        """The rates of runs titled `first, pair N` and `second, pair N`, for each N both measured
        (scripts/bench-compare alternates such runs); a log of one unnumbered run each is one pair."""
        found = []
        for title in runs:
            if title == first or title.startswith(first + ", pair "):
                a, b = rate(runs[title]), rate(run(second + title[len(first):]))
                if a is not None and b:
                    found.append((a, b))
        return found

    sends, cycles = rate(run("Handover, send")), rate(run("Handover, full cycle"))
    postgres = rate(run("Handover on PostgreSQL, one instance, send"))
    tls_pairs = pairs("Handover, send, mutual TLS, 32 clients", "Handover, send, plain HTTP, 32 clients")
    sandbox_sends = rate(run("mesh-sandbox 1.0.137 (file store), send"))
    sandbox_cycles = rate(run("mesh-sandbox 1.0.137 (file store), full cycle"))
    p99 = send_p99(run("Handover, send at 1000/s"))
    measured = wrk(next((lines for title, lines in runs.items() if "wrk" in title), []))

    rows = []  # (what, measured, target, met); a run without its figure (it failed) is "not measured"

    def row(what, target, figure, text=None, met=None):
        if figure is None:
            rows.append((what, None, target, None))
        else:
            rows.append((what, text(figure), target, met(figure)))

    row("durable 1 KiB sends, 64 clients", "≥ 6,000/s", sends, lambda n: f"{n:,}/s", lambda n: n >= 6000)
    row("wrk, 16 connections: throughput", "≥ 6,000/s", measured, lambda m: f"{m[0]:,}/s", lambda m: m[0] >= 6000)
    row("wrk, 16 connections: latency", "p99 ≤ 25 ms, max ≤ 100 ms", measured,
        lambda m: f"p99 {m[1]} ms, max {m[2]} ms", lambda m: m[1] <= 25 and m[2] <= 100)
    row("full cycles, 64 clients", "≥ 1,800/s", cycles, lambda n: f"{n:,}/s", lambda n: n >= 1800)
    row("p99 send at 1,000/s", "≤ 5 ms", p99, lambda ms: f"{ms} ms", lambda ms: ms <= 5)
    # The median pair's ratio (of an even count, the lower): one pair run while the machine changed speed says little.
    median_pair = sorted(tls_pairs, key=lambda pair: pair[0] / pair[1])[(len(tls_pairs) - 1) // 2] if tls_pairs else None
    row("mutual TLS against plain HTTP", "≥ 80 %", median_pair,
        lambda pair: (f"{pair[0]:,} / {pair[1]:,}/s = {100 * pair[0] / pair[1]:.0f} %"
                      + (f" (median of {len(tls_pairs)} alternated pairs: "
                         + ", ".join(f"{100 * a / b:.0f}" for a, b in tls_pairs) + " %)" if len(tls_pairs) > 1 else "")),
        lambda pair: pair[0] >= 0.8 * pair[1])
    row("PostgreSQL, one instance", "≥ 2,500/s", postgres, lambda n: f"{n:,}/s", lambda n: n >= 2500)
    for what, ours, theirs in (("sends", sends, sandbox_sends), ("sends on PostgreSQL", postgres, sandbox_sends),
                               ("full cycles", cycles, sandbox_cycles)):
        row(f"{what} against mesh-sandbox's", "≥ 15×", (ours, theirs) if ours is not None and theirs else None,
            lambda pair: f"{pair[0]:,} / {pair[1]:,}/s = {pair[0] / pair[1]:.1f}×", lambda pair: pair[0] >= 15 * pair[1])
    if all(met is None for _, _, _, met in rows):
        sys.exit(f"bench-summary: no benchmark reports found in {path}")
    width = max(len(what) for what, _, _, _ in rows)
    for what, value, target, met in rows:
        if met is None:
            print(f"{what:<{width}}  not measured (target {target})")
        else:
            print(f"{what:<{width}}  {value}  (target {target}: {'met' if met else 'not met'})")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python3 scripts/bench-summary.py compare.log")
    main(sys.argv[1])
