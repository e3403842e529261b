"""The filter chain on live sessions (docs/filters.md): SPF, DKIM and DMARC
against a real DNS server (unbound) with the records the test publishes,
messages signed by Debian's dkimpy; the Authentication-Results and
Received-SPF fields the gateway puts on top; forged Authentication-Results
removed; deadlines and failure modes; who is not judged; the metrics."""
import base64
import email
import time
import re
import smtplib
import urllib.request
from xml.etree import ElementTree

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from conftest import wait_until
from dns_server import Unbound, txt
from opendmarc_peer import OpenDmarcDatabase

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY_PEM = KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
PUB_B64 = base64.b64encode(KEY.public_key().public_bytes(serialization.Encoding.DER,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo)).decode()


@pytest.fixture(scope="module")
def dns():
    server = Unbound(
        zones=["sender.test.", "other.test."],
        records=[
            txt("sender.test.", "v=spf1 ip4:127.0.0.0/8 -all"),
            txt("sel._domainkey.sender.test.", f"v=DKIM1; k=rsa; p={PUB_B64}"),
            txt("_dmarc.sender.test.", "v=DMARC1; p=reject; rua=mailto:agg@sender.test"),
            txt("other.test.", "v=spf1 ip4:192.0.2.0/24 -all"),
            txt("_dmarc.other.test.", "v=DMARC1; p=quarantine"),
        ],
        silent=["slow.test."])
    yield server
    server.stop()


def start(sluice, dns, **filters):
    return sluice.start(dns={"servers": ["127.0.0.1"], "port": dns.port, "timeout": "5s", "tries": 1},
                        filters={"enabled": True, **filters})


def message(frm="a@sender.test", body="Hello.\r\n", extra_headers=""):
    return (f"From: {frm}\r\nTo: bob@example.test\r\nSubject: filters\r\n"
            f"Message-ID: <{abs(hash(body + frm))}@sender.test>\r\n{extra_headers}\r\n{body}").encode()


def signed(msg):
    sig = dkim.sign(msg, b"sel", b"sender.test", KEY_PEM, include_headers=[b"from", b"to", b"subject"])
    return sig + msg


def send(gw, mail_from, msg, helo="client.sender.test"):
    with smtplib.SMTP("127.0.0.1", gw.port, local_hostname=helo) as c:
        c.sendmail(mail_from, ["bob@example.test"], msg)


def stored_single(gw):
    assert wait_until(lambda: len(gw.queued()) == 1)
    (env, data), = gw.queued().values()
    return env, data.decode("latin-1")


def header_block(data):
    return data.split("\r\n\r\n", 1)[0]


def auth_results(data, authserv="mx.sluice.test"):
    """Our Authentication-Results field, unfolded."""
    m = re.search(r"^Authentication-Results: " + re.escape(authserv) + r";(.*?)\r\n(?=\S)", data, re.S | re.M)
    assert m, header_block(data)
    return " ".join(m.group(1).split())


def test_signed_message_from_an_authorised_host_passes_everything(sluice, dns):
    gw = start(sluice, dns)
    send(gw, "a@sender.test", signed(message()))
    env, data = stored_single(gw)
    ar = auth_results(data)
    assert "spf=pass smtp.mailfrom=a@sender.test" in ar, ar
    assert re.search(r"dkim=pass header\.d=sender\.test header\.s=sel header\.b=\S{8}", ar), ar
    assert "dmarc=pass (p=reject dis=none) header.from=sender.test" in ar, ar
    # Our fields come first, above our own Received (RFC 7208 9.1, RFC 8601 5).
    assert data.startswith("Authentication-Results: mx.sluice.test;"), data[:200]
    assert re.search(r"^Received-SPF: pass \(mx\.sluice\.test: domain of a@sender\.test designates 127\.0\.0\.1",
                     data, re.M), header_block(data)
    assert data.index("Received-SPF:") < data.index("Received: from"), header_block(data)
    # The DKIM signature still verifies on the stored copy: we only added fields above it.
    assert dkim.verify(data.encode("latin-1"), dnsfunc=lambda name, timeout=5: f"v=DKIM1; k=rsa; p={PUB_B64}".encode())
    line = next(l for l in gw.log().splitlines() if "event=filters" in l)
    assert "spf=pass" in line and "dkim=pass:sender.test" in line and "dmarc=accept" in line, line


def test_tampered_body_fails_dkim_but_aligned_spf_still_passes_dmarc(sluice, dns):
    gw = start(sluice, dns)
    msg = signed(message(body="The original text.\r\n")).replace(b"original", b"altered")
    send(gw, "a@sender.test", msg)
    _, data = stored_single(gw)
    ar = auth_results(data)
    assert re.search(r"dkim=fail .*header\.d=sender\.test", ar), ar
    assert "dmarc=pass" in ar and "spf=pass" in ar, ar


def test_an_rsa_sha1_signature_is_policy_and_never_an_aligned_pass(sluice, dns):
    # RFC 8301 3.1: rsa-sha1 is not used for verifying. sender.test's own
    # rsa-sha1 signature is the only thing that could align (MAIL FROM is
    # other.test, which SPF fails for us): DMARC must apply p=reject.
    gw = start(sluice, dns)
    msg = message()
    msg = dkim.sign(msg, b"sel", b"sender.test", KEY_PEM, include_headers=[b"from", b"to", b"subject"],
                    signature_algorithm=b"rsa-sha1") + msg
    send(gw, "x@other.test", msg, helo="client.other.test")
    _, data = stored_single(gw)
    ar = auth_results(data)
    assert re.search(r'dkim=policy reason="rsa-sha1 not accepted \(RFC 8301\)" header\.d=sender\.test '
                     r'header\.s=sel header\.b="?\S{8}', ar), ar
    assert "dmarc=fail (p=reject dis=reject) header.from=sender.test" in ar, ar
    line = next(l for l in gw.log().splitlines() if "event=filters" in l)
    assert "dkim=policy:sender.test" in line and "dmarc=reject" in line, line


def test_unaligned_author_gets_the_domains_policy(sluice, dns):
    # MAIL FROM passes SPF for sender.test, but the author is other.test,
    # which publishes p=quarantine and signs nothing: DMARC fails.
    gw = start(sluice, dns)
    send(gw, "a@sender.test", message(frm="Someone <x@other.test>"))
    _, data = stored_single(gw)
    ar = auth_results(data)
    assert "dmarc=fail (p=quarantine dis=quarantine) header.from=other.test" in ar, ar
    assert "dkim=none" in ar, ar


def test_spf_fail_for_a_host_the_domain_does_not_list(sluice, dns):
    gw = start(sluice, dns)
    send(gw, "x@other.test", message(frm="x@other.test"))
    _, data = stored_single(gw)
    assert "spf=fail smtp.mailfrom=x@other.test" in auth_results(data)
    assert re.search(r"^Received-SPF: fail ", data, re.M)


def test_forged_authentication_results_with_our_id_are_removed(sluice, dns):
    gw = start(sluice, dns)
    forged = ("Authentication-Results: MX.Sluice.Test; spf=pass smtp.mailfrom=ceo@sender.test\r\n"
              "Authentication-Results: mx.sluice.test (folded\r\n  comment); dkim=pass\r\n"
              "Authentication-Results: relay.elsewhere.test; dkim=pass header.d=elsewhere.test\r\n")
    send(gw, "a@sender.test", message(extra_headers=forged))
    _, data = stored_single(gw)
    head = header_block(data)
    assert head.count("Authentication-Results: mx.sluice.test;") == 1, head  # ours only
    assert "MX.Sluice.Test" not in head and "folded" not in head, head
    assert "Authentication-Results: relay.elsewhere.test; dkim=pass header.d=elsewhere.test" in head, head
    assert "removed_ar=2" in next(l for l in gw.log().splitlines() if "event=filters" in l)


def test_trusted_clients_are_not_judged_but_forgeries_still_go(sluice, dns):
    gw = sluice.start(dns={"servers": ["127.0.0.1"], "port": dns.port},
                      smtp={"trusted_networks": ["127.0.0.0/8"]},
                      filters={"enabled": True, "authserv_id": "edge.example.net"})
    send(gw, "a@sender.test",
         message(extra_headers="Authentication-Results: edge.example.net; spf=pass\r\n"))
    _, data = stored_single(gw)
    assert "Authentication-Results" not in header_block(data), header_block(data)
    assert "Received-SPF" not in header_block(data)


def test_a_filter_that_times_out_defers_when_told_to(sluice, dns):
    gw = start(sluice, dns, spf={"timeout": "1s", "on_failure": "defer"}, dmarc={"timeout": "1s"})
    with smtplib.SMTP("127.0.0.1", gw.port, local_hostname="client.slow.test") as c:
        c.ehlo()
        assert c.mail("a@slow.test")[0] == 250
        assert c.rcpt("bob@example.test")[0] == 250
        code, text = c.data(message(frm="a@slow.test"))  # the final reply, returned
    assert code == 451 and text.startswith(b"4.4.3 "), (code, text)
    assert b"spf timed out" in text, text
    assert gw.queued() == {}
    assert "event=filter_failed filter=spf" in gw.log()


def test_a_filter_that_times_out_carries_on_by_default(sluice, dns):
    gw = start(sluice, dns, spf={"timeout": "1s"}, dmarc={"timeout": "1s"})
    send(gw, "a@slow.test", message(frm="a@slow.test"), helo="client.slow.test")
    _, data = stored_single(gw)
    ar = auth_results(data)
    assert "spf=temperror" in ar and "dmarc=temperror" in ar, ar


def test_filter_metrics_are_exported(sluice, dns):
    gw = start(sluice, dns)
    send(gw, "a@sender.test", signed(message()))
    stored_single(gw)
    text = urllib.request.urlopen(f"http://127.0.0.1:{gw.metrics_port}/metrics", timeout=10).read().decode()
    assert re.search(r'^sluice_filter_results_total\{filter="spf",result="pass"\} [1-9]', text, re.M), text[-3000:]
    assert re.search(r'^sluice_filter_results_total\{filter="dkim",result="pass"\} [1-9]', text, re.M)
    assert re.search(r'^sluice_filter_results_total\{filter="dmarc",result="accept"\} [1-9]', text, re.M)
    assert re.search(r'^sluice_filter_seconds_count\{filter="dkim"\} [1-9]', text, re.M)


# --- operator policy ([[policy]], docs/filters.md "Policy") ---------------------

def test_dmarc_reject_policy_refuses_with_the_operators_text(sluice, dns):
    gw = sluice.start(dns={"servers": ["127.0.0.1"], "port": dns.port}, filters={"enabled": True},
                      policy=[{"name": "dmarc-reject", "dmarc_status": ["reject"], "authenticated": False,
                               "action": "reject",
                               "message": "Message from ${dmarc_used_domain} failed sender's DMARC policy, REJECT"}])
    # other.test's policy is quarantine; make one with p=reject: sender.test's
    # own author with a failing signature and MAIL FROM elsewhere.
    msg = signed(message(body="original\r\n")).replace(b"original", b"altered")
    with smtplib.SMTP("127.0.0.1", gw.port, local_hostname="client.other.test") as c:
        c.ehlo()
        assert c.mail("x@other.test")[0] == 250  # SPF fail for other.test: not aligned with sender.test anyway
        assert c.rcpt("bob@example.test")[0] == 250
        code, text = c.data(msg)
    assert (code, text) == (550, b"5.7.1 Message from sender.test failed sender's DMARC policy, REJECT"), (code, text)
    assert gw.queued() == {}
    assert re.search(r"event=policy_refused .*phase=data .*rule=dmarc-reject .*code=550", gw.log())


def test_quarantine_and_add_header(sluice, dns, tmp_path):
    qdir = tmp_path / "quarantine"
    qdir.mkdir()
    gw = sluice.start(dns={"servers": ["127.0.0.1"], "port": dns.port}, filters={"enabled": True},
                      policy=[{"dmarc_status": ["quarantine"], "quarantine": str(qdir),
                               "add_header": "X-Quarantined: DMARC ${dmarc_status} for ${dmarc_used_domain}"}])
    send(gw, "a@sender.test", message(frm="x@other.test"))  # other.test: p=quarantine, nothing aligned
    # The runner exports the whole message there as an Exim -H/-D pair.
    assert wait_until(lambda: any(p.name.endswith("-H") for p in qdir.iterdir()), timeout=10), list(qdir.iterdir())
    h = next(p for p in qdir.iterdir() if p.name.endswith("-H")).read_text(errors="replace")
    assert "X-Quarantined: DMARC quarantine for other.test" in h, h
    assert "Authentication-Results: mx.sluice.test;" in h, h
    assert "bob@example.test" in h
    assert re.search(r"event=delivered .*route=quarantine", gw.log()), gw.log()[-2000:]


def test_rcpt_rules_refuse_one_recipient_and_switch_dmarc_off(sluice, dns):
    gw = sluice.start(dns={"servers": ["127.0.0.1"], "port": dns.port}, filters={"enabled": True},
                      smtp={"local_domains": ["example.test", "lists.example.test"]},
                      policy=[{"phase": "rcpt", "domains": ["lists.example.test"], "control": ["dmarc_disable_verify"],
                               "set_flags": ["mailing_list"]},
                              {"phase": "rcpt", "domains": ["example.test"], "action": "defer",
                               "message": "${local_part} is busy"},
                              {"flags": ["mailing_list"], "add_header": "X-List: yes"}])
    with smtplib.SMTP("127.0.0.1", gw.port, local_hostname="client.sender.test") as c:
        c.ehlo()
        assert c.mail("a@sender.test")[0] == 250
        assert c.rcpt("l@lists.example.test")[0] == 250
        assert c.rcpt("bob@example.test") == (451, b"4.7.1 bob is busy")
        assert c.data(message(frm="x@other.test"))[0] == 250
    env, data = stored_single(gw)
    assert [r["address"] for r in env["recipients"]] == ["l@lists.example.test"]
    assert data.startswith("X-List: yes\r\n"), data[:200]
    ar = auth_results(data)
    assert "dmarc" not in ar and "spf=pass" in ar, ar  # DMARC switched off for this transaction


def test_dmarc_history_file_through_opendmarc_import_and_reports(sluice, dns, tmp_path):
    history = tmp_path / "dmarc.history"
    gw = sluice.start(dns={"servers": ["127.0.0.1"], "port": dns.port},
                      filters={"enabled": True, "dmarc_history_file": str(history)},
                      policy=[{"dmarc_status": ["quarantine"], "action": "reject"}])
    send(gw, "a@sender.test", signed(message()))
    with smtplib.SMTP("127.0.0.1", gw.port, local_hostname="client.sender.test") as c:
        c.ehlo()
        c.mail("a@sender.test")
        c.rcpt("bob@example.test")
        assert c.data(message(frm="x@other.test"))[0] == 550
    assert wait_until(lambda: history.exists() and history.read_text().count("job ") == 2, timeout=10)
    # Read it as opendmarc-import does: "key value [rest]" lines, a record per "job".
    records, rec = [], None
    for line in history.read_text().splitlines():
        key, value, *rest = line.split(" ", 2)
        if key == "job":
            rec = {"dkim": []}
            records.append(rec)
        if key == "dkim":
            rec["dkim"].append((value, *rest[0].split(" ")))
        else:
            rec[key] = value
    passed, rejected = records
    assert passed["job"] in gw.queued()
    assert (passed["reporter"], passed["ipaddr"], passed["from"], passed["mfrom"]) == \
        ("mx.sluice.test", "127.0.0.1", "sender.test", "sender.test")
    assert (passed["spf"], passed["align_spf"], passed["align_dkim"], passed["action"]) == ("0", "4", "4", "2")
    # "p" is the record's letter; "policy" is libopendmarc's policy to enforce (15 passed, 17 quarantine).
    assert (passed["p"], passed["policy"], passed["pct"], passed["rua"]) == (str(ord("r")), "15", "100",
                                                                            "mailto:agg@sender.test")
    assert passed["dkim"] == [("sender.test", "sel", "0")]
    assert (passed["arc"], passed["arc_policy"]) == ("11", "1")
    assert (rejected["from"], rejected["pdomain"], rejected["policy"]) == ("other.test", "other.test", "17")
    assert (rejected["align_spf"], rejected["align_dkim"], rejected["action"], rejected["rua"]) == ("5", "5", "0", "-")

    # The real reader: OpenDMARC's opendmarc-import into its schema on a real MariaDB.
    db = OpenDmarcDatabase(tmp_path / "opendmarc")
    try:
        code, err = db.import_history(history)
        assert code == 0 and "failed" not in err, err
        rows = db.sql("""
            SELECT m.jobid, f.name, p.name, m.policy, m.disp, m.spf, m.align_dkim, m.align_spf, m.sigcount,
                   m.arc, m.arc_policy, i.addr
            FROM messages m JOIN domains f ON f.id = m.from_domain JOIN domains p ON p.id = m.policy_domain
                            JOIN ipaddr i ON i.id = m.ip
            ORDER BY m.id""", database="opendmarc")
        assert rows == [
            [passed["job"], "sender.test", "sender.test", "15", "2", "0", "4", "4", "1", "11", "1", "127.0.0.1"],
            [rejected["job"], "other.test", "other.test", "17", "0", rejected["spf"], "5", "5", "0", "11", "1",
             "127.0.0.1"],
        ], rows
        signatures = db.sql("""SELECT d.name, s.name, g.pass, g.error FROM signatures g
                               JOIN domains d ON d.id = g.domain JOIN selectors s ON s.id = g.selector""",
                            database="opendmarc")
        assert signatures == [["sender.test", "sel", "0", "0"]], signatures
        requests = db.sql("""SELECT d.name, r.repuri, r.adkim, r.aspf, r.policy, r.spolicy, r.pct FROM requests r
                             JOIN domains d ON d.id = r.domain ORDER BY d.name""", database="opendmarc")
        # No sp= in the record: 0, which opendmarc-reports publishes as p's value.
        assert requests[1] == ["sender.test", "mailto:agg@sender.test", str(ord("r")), str(ord("r")),
                               str(ord("r")), "0", "100"], requests
        assert requests[0][:2] == ["other.test", ""] and requests[0][4] == str(ord("q")), requests

        # And the aggregate report OpenDMARC writes from those rows: only
        # sender.test asks for one (rua=), with its one message.
        reports, err = db.aggregate_reports(tmp_path / "reports", gw.port)
        assert len(reports) == 1 and "!sender.test!" in reports[0].name, (reports, err)
        feedback = ElementTree.parse(reports[0]).getroot()
        published = feedback.find("policy_published")
        assert [published.findtext(k) for k in ("domain", "adkim", "aspf", "p", "sp", "pct")] == \
            ["sender.test", "r", "r", "reject", "reject", "100"]
        (record,) = feedback.findall("record")
        assert record.findtext("row/source_ip") == "127.0.0.1"
        assert [record.findtext(f"row/policy_evaluated/{k}") for k in ("disposition", "dkim", "spf")] == \
            ["none", "pass", "pass"]
        assert record.findtext("identifiers/header_from") == "sender.test"
        assert [record.findtext(f"auth_results/spf/{k}") for k in ("domain", "result")] == ["sender.test", "pass"]
        assert [record.findtext(f"auth_results/dkim/{k}") for k in ("domain", "selector", "result")] == \
            ["sender.test", "sel", "pass"]
    finally:
        db.stop()


def test_forensic_report_is_queued_only_when_turned_on(sluice, dns):
    # other.test publishes no ruf=; sender.test's record gets one in this test's own zone.
    server = Unbound(zones=["ruf.test."], records=[
        txt("ruf.test.", "v=spf1 -all"),
        txt("_dmarc.ruf.test.", "v=DMARC1; p=reject; ruf=mailto:forensic@reports.ruf.test!50k,mailto:tiny@ruf.test!1k; fo=1")])
    try:
        def run(**filters):
            gw = sluice.start(dns={"servers": ["127.0.0.1"], "port": server.port},
                              filters={"enabled": True, **filters},
                              policy=[{"phase": "rcpt", "control": ["dmarc_enable_forensic"]}])
            with smtplib.SMTP("127.0.0.1", gw.port, local_hostname="client.ruf.test") as c:
                c.ehlo()
                c.mail("x@ruf.test")
                c.rcpt("bob@example.test")
                assert c.data(message(frm="ceo@ruf.test"))[0] == 250  # no policy refuses it here
            return gw
        off = run()
        assert wait_until(lambda: len(off.queued()) == 1)
        time.sleep(0.5)
        assert len(off.queued()) == 1  # no sender configured: no report
        on = run(dmarc_forensic_sender="dmarc-reports@mx.sluice.test")
        assert wait_until(lambda: len(on.queued()) == 2, timeout=10), on.log()[-2000:]
        report_env, report = next((e, d) for e, d in on.queued().values() if e["sender"].startswith("dmarc-reports"))
        # The 1k-limited address is left out: the report is bigger than that.
        assert [r["address"] for r in report_env["recipients"]] == ["forensic@reports.ruf.test"]
        msg = email.message_from_bytes(report)
        assert msg.get_content_type() == "multipart/report"
        assert msg.get_param("report-type") == "feedback-report"
        parts = list(msg.walk())
        feedback = next(p for p in parts if p.get_content_type() == "message/feedback-report")
        text = feedback.get_payload(decode=False)
        text = text if isinstance(text, str) else "".join(str(p) for p in text)
        assert "Feedback-Type: auth-failure" in text and "Auth-Failure: dmarc" in text, text
        assert "Reported-Domain: ruf.test" in text and "Source-IP: 127.0.0.1" in text, text
        headers = next(p for p in parts if p.get_content_type() == "text/rfc822-headers")
        assert "From: ceo@ruf.test" in str(headers.get_payload())
        assert "event=dmarc_forensic_queued" in on.log()
    finally:
        server.stop()


def test_forensic_reports_go_outside_only_where_authorized(sluice, dns):
    # RFC 7489 7.1: a ruf= address outside the policy domain's organizational
    # domain gets reports only if its host publishes
    # <policy domain>._report._dmarc.<host> "v=DMARC1". At most two ruf=
    # addresses are used (RFC 7489 6.3's minimum), so the third never counts.
    def serve(ruf):
        return Unbound(zones=["far.test.", "outside.test.", "authorized.test."], records=[
            txt("far.test.", "v=spf1 -all"),
            txt("_dmarc.far.test.", f"v=DMARC1; p=reject; ruf={ruf}; fo=1"),
            txt("far.test._report._dmarc.authorized.test.", "v=DMARC1"),
            txt("other.test._report._dmarc.outside.test.", "v=DMARC1"),  # for another domain: no use
        ])

    def send(server):
        gw = sluice.start(dns={"servers": ["127.0.0.1"], "port": server.port},
                          filters={"enabled": True, "dmarc_forensic_sender": "dmarc-reports@mx.sluice.test"},
                          policy=[{"phase": "rcpt", "control": ["dmarc_enable_forensic"]}])
        with smtplib.SMTP("127.0.0.1", gw.port, local_hostname="client.far.test") as c:
            c.ehlo()
            c.mail("x@far.test")
            c.rcpt("bob@example.test")
            assert c.data(message(frm="ceo@far.test"))[0] == 250
        return gw

    server = serve("mailto:x@outside.test,mailto:y@Authorized.Test,mailto:z@far.test")
    try:
        gw = send(server)
        assert wait_until(lambda: len(gw.queued()) == 2, timeout=10), gw.log()[-2000:]
        report_env = next(e for e, _ in gw.queued().values() if e["sender"].startswith("dmarc-reports"))
        assert [r["address"] for r in report_env["recipients"]] == ["y@Authorized.Test"]
        gw.wait_log("event=dmarc_forensic_queued")
    finally:
        server.stop()

    server = serve("mailto:x@outside.test,mailto:w@elsewhere.test")
    try:
        gw = send(server)
        gw.wait_log("event=dmarc_forensic_skipped")
        assert "RFC 7489 7.1" in gw.log()
        time.sleep(0.3)
        assert len(gw.queued()) == 1  # the message only, no report
    finally:
        server.stop()
