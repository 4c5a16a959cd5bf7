"""scripts/bench-ab with two stand-in binaries that print reports shaped as `handover bench` prints them."""

import os
import pathlib
import subprocess

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "bench-ab"


def stand_in(tmp_path, name, cpu_ms, generator_cores, mode_line="sends: 14400 in 12.0 s = 1200/s"):
    """An executable that answers any `bench …` call with a fixed report."""
    path = tmp_path / name
    path.write_text(f"""#!/bin/sh
cat <<'REPORT'
handover bench: mode send, 32 clients, 8 mailboxes, 1024 B messages, against a spawned broker (SQLite, synchronous=FULL)
{mode_line}
operation count fail p50 ms p90 ms p99 ms p99.9 ms max ms
send     14400      0      1.02      1.90      4.40      8.10      9.00
CPU: brokers 0.62 cores, load generator {generator_cores} cores, of 2
per send: broker CPU {cpu_ms} ms, storage writes 38.2 KiB
REPORT
""")
    path.chmod(0o755)
    return path


def test_each_round_and_the_median_ratio_are_printed(tmp_path):
    old = stand_in(tmp_path, "old", "0.500", "0.21")
    new = stand_in(tmp_path, "new", "0.450", "0.16")
    out = subprocess.run([str(SCRIPT), str(old), str(new), "2", "1200", "1"], capture_output=True, text=True, check=True).stdout
    assert "round 1 old: 1200/s, broker CPU 0.500 ms a send, load generator 0.21 cores" in out
    assert "round 2 new: 1200/s, broker CPU 0.450 ms a send, load generator 0.16 cores" in out
    assert "broker CPU a send, new/old: median 0.900 (rounds: 0.900, 0.900)" in out


def test_cycles_are_read_from_their_own_lines(tmp_path):
    def cycles(name, cpu):
        path = stand_in(tmp_path, name, cpu, "0.30", "full cycles (send, list, download, acknowledge): 6000 in 12.0 s = 500/s")
        path.write_text(path.read_text().replace("per send:", "per cycle:"))
        return path
    out = subprocess.run([str(SCRIPT), str(cycles("old", "1.000")), str(cycles("new", "1.100")), "1", "500", "1", "cycle"],
                         capture_output=True, text=True, check=True).stdout
    assert "round 1 old: 500/s, broker CPU 1.000 ms a cycle" in out
    assert "median 1.100" in out


def test_a_report_without_the_broker_cpu_fails_the_run(tmp_path):
    old = stand_in(tmp_path, "old", "0.500", "0.21")
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\necho 'handover bench: cannot start'\n")
    broken.chmod(0o755)
    result = subprocess.run([str(SCRIPT), str(old), str(broken), "1", "1200", "1"], capture_output=True, text=True)
    assert result.returncode != 0
    assert "the new build's report has no broker CPU" in result.stderr and "cannot start" in result.stderr


def test_one_load_generator_drives_both_brokers(tmp_path):
    """LOAD_GENERATOR: that binary's `bench` runs both sides, naming each build with `--broker-binary`."""
    old = stand_in(tmp_path, "old", "9.999", "0.99")  # never run itself: its report would give 9.999
    new = stand_in(tmp_path, "new", "9.999", "0.99")
    calls = tmp_path / "calls"
    generator = tmp_path / "generator"
    generator.write_text(f"""#!/bin/sh
echo "$@" >> {calls}
case "$3" in */old) cpu=0.600 ;; */new) cpu=0.300 ;; *) cpu=missing ;; esac
cat <<REPORT
sends: 14400 in 12.0 s = 1200/s
CPU: brokers 0.62 cores, load generator 0.20 cores, of 2
per send: broker CPU $cpu ms, storage writes 38.2 KiB
REPORT
""")
    generator.chmod(0o755)
    out = subprocess.run([str(SCRIPT), str(old), str(new), "1", "900", "1"], capture_output=True, text=True, check=True,
                         env={**os.environ, "LOAD_GENERATOR": str(generator)}).stdout
    assert "round 1 old: 1200/s, broker CPU 0.600 ms a send" in out
    assert "broker CPU a send, new/old: median 0.500" in out
    lines = sorted(calls.read_text().splitlines())
    assert lines == [f"bench --broker-binary {side} --mode send --clients 32 --duration 1 --rate 900" for side in sorted([str(new), str(old)])]
