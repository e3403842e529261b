"""The durable spool's metrics: commit latency and batch size histograms,
commit failures by reason, and the queue's size by state."""
import smtplib

from conftest import SLOW, wait_until
from test_metrics import parse, scrape, send, value


def test_commits_and_queue_size_are_exported(sluice):
    gw = sluice.start()
    send(gw.port, 7)
    s = parse(scrape(gw))
    # Every message went through some commit; the batch sizes add up to them.
    assert value(s, "sluice_spool_messages_per_commit_sum") == 7
    commits = value(s, "sluice_spool_messages_per_commit_count")
    assert 1 <= commits <= 7
    assert value(s, "sluice_spool_commit_seconds_count") == commits
    assert value(s, "sluice_spool_commit_seconds_sum") > 0
    # Nothing routes them (no [[route]]): they wait for relay, queued.
    assert value(s, "sluice_queue_messages", state="queued") == 7
    assert value(s, "sluice_queue_messages", state="done") == 0


def test_discard_route_moves_messages_to_done(sluice):
    gw = sluice.start(route=[{"name": "bin", "action": "discard"}])
    send(gw.port, 3)
    assert wait_until(lambda: value(parse(scrape(gw)), "sluice_queue_messages", state="done") == 3)
    s = parse(scrape(gw))
    assert value(s, "sluice_queue_messages", state="queued") == 0
    # Three commits for the messages plus the runner's outcome updates.
    assert value(s, "sluice_spool_messages_per_commit_sum") >= 6


def test_map_full_counts_a_no_space_failure(sluice, tmp_path):
    gw = sluice.start(spool={"directory": str(tmp_path / "spool"), "map_size": "1M", "inline_max": "200K"})
    refused = 0
    for i in range(12):
        with smtplib.SMTP("127.0.0.1", gw.port, timeout=10 * SLOW) as c:
            c.ehlo()
            c.mail("a@src.test")
            c.rcpt("b@example.test")
            code, _ = c.data("Subject: big\r\n\r\n" + ("q" * 78 + "\r\n") * 1900)
            refused += code == 452
    assert refused > 0
    s = parse(scrape(gw))
    assert value(s, "sluice_spool_commit_failures_total", reason="no_space") >= refused
