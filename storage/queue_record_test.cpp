// QueueRecord JSON: what the queue stores for each message must read back
// exactly as written, and anything else must read back as "no record".
#include "storage/queue_record.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sluice::storage {
namespace {

QueueRecord full_record() {
  QueueRecord r;
  Envelope& e = r.envelope;
  e.id = "1abcDE-0123456789a-0007";
  e.sender = "alice@example.org";
  e.recipients = {{"bob@example.net", 2 | 4, "rfc822;bob@example.net"},
                  {"carol@example.com", 1, ""},
                  {"dave@example.com", 0, ""}};
  e.received_at = 1'700'000'123;
  e.size = 123456;
  e.body_type = "8BITMIME";
  e.smtputf8 = true;
  e.ret = "HDRS";
  e.envid = "env-42";
  e.requiretls = true;
  e.helo = "client.example.org";
  e.protocol = "utf8esmtpa";
  e.client_addr = "2001:db8::7";
  e.client_port = 54321;
  e.client_name = "client.example.org";
  e.proxy_addr = "127.0.0.1";
  e.origin = "xclient";
  e.login = "alice";
  r.state = MessageState::deferred;
  r.body = BodyPlace::file;
  r.next_retry = 1'700'000'999;
  r.updated_at = 1'700'000'500;
  r.attempts = 3;
  r.progress = {{RecipientState::delivered, "archive", ""},
                {RecipientState::deferred, "exim", "queuefile /x: Permission denied"},
                {RecipientState::failed, "exim", "gave up"}};
  return r;
}

void expect_same(const QueueRecord& a, const QueueRecord& b) {
  const Envelope &x = a.envelope, &y = b.envelope;
  EXPECT_EQ(x.id, y.id);
  EXPECT_EQ(x.sender, y.sender);
  ASSERT_EQ(x.recipients.size(), y.recipients.size());
  for (std::size_t i = 0; i < x.recipients.size(); ++i) {
    EXPECT_EQ(x.recipients[i].address, y.recipients[i].address);
    EXPECT_EQ(x.recipients[i].notify, y.recipients[i].notify);
    EXPECT_EQ(x.recipients[i].orcpt, y.recipients[i].orcpt);
  }
  EXPECT_EQ(x.received_at, y.received_at);
  EXPECT_EQ(x.size, y.size);
  EXPECT_EQ(x.body_type, y.body_type);
  EXPECT_EQ(x.smtputf8, y.smtputf8);
  EXPECT_EQ(x.ret, y.ret);
  EXPECT_EQ(x.envid, y.envid);
  EXPECT_EQ(x.requiretls, y.requiretls);
  EXPECT_EQ(x.helo, y.helo);
  EXPECT_EQ(x.protocol, y.protocol);
  EXPECT_EQ(x.client_addr, y.client_addr);
  EXPECT_EQ(x.client_port, y.client_port);
  EXPECT_EQ(x.client_name, y.client_name);
  EXPECT_EQ(x.proxy_addr, y.proxy_addr);
  EXPECT_EQ(x.origin, y.origin);
  EXPECT_EQ(x.login, y.login);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.next_retry, b.next_retry);
  EXPECT_EQ(a.updated_at, b.updated_at);
  EXPECT_EQ(a.attempts, b.attempts);
  ASSERT_EQ(a.progress.size(), b.progress.size());
  for (std::size_t i = 0; i < a.progress.size(); ++i) {
    EXPECT_EQ(a.progress[i].state, b.progress[i].state) << i;
    EXPECT_EQ(a.progress[i].route, b.progress[i].route) << i;
    EXPECT_EQ(a.progress[i].last_error, b.progress[i].last_error) << i;
  }
}

TEST(QueueRecord, RoundTripKeepsEveryField) {
  const QueueRecord r = full_record();
  auto back = queue_record_from_json(to_json(r));
  ASSERT_TRUE(back.has_value());
  expect_same(r, *back);
}

TEST(QueueRecord, RoundTripOfEveryState) {
  for (auto s : {MessageState::queued, MessageState::delivering, MessageState::deferred, MessageState::done,
                 MessageState::bounced}) {
    QueueRecord r = full_record();
    r.state = s;
    r.body = BodyPlace::inline_value;
    for (auto rs : {RecipientState::pending, RecipientState::delivered, RecipientState::deferred,
                    RecipientState::failed}) {
      r.progress[1].state = rs;
      auto back = queue_record_from_json(to_json(r));
      ASSERT_TRUE(back) << name_of(s) << "/" << name_of(rs);
      EXPECT_EQ(back->state, s);
      EXPECT_EQ(back->body, BodyPlace::inline_value);
      EXPECT_EQ(back->progress[1].state, rs);
    }
  }
}

TEST(QueueRecord, StateNamesAreTheStoredWords) {
  EXPECT_EQ(name_of(MessageState::deferred), "deferred");
  EXPECT_EQ(name_of(RecipientState::failed), "failed");
  EXPECT_EQ(message_state_from("bounced"), MessageState::bounced);
  EXPECT_FALSE(message_state_from("Queued").has_value());
  EXPECT_FALSE(message_state_from("").has_value());
}

TEST(QueueRecord, JsonIsTheEnvelopePlusQueueFields) {
  // `sluice queue list --json` hands this text out as it is stored; the
  // integration tests and operators read these keys.
  const std::string j = to_json(full_record());
  for (const char* key : {"\"id\":", "\"sender\":", "\"recipients\":", "\"login\":", "\"state\":\"deferred\"",
                          "\"body_place\":\"file\"", "\"next_retry\":1700000999", "\"attempts\":3",
                          "\"route\":\"archive\"", "\"error\":\"queuefile /x: Permission denied\""})
    EXPECT_NE(j.find(key), std::string::npos) << key << " in " << j;
}

TEST(QueueRecord, ProgressPerRecipient) {
  QueueRecord r = full_record();
  r.start_progress();
  ASSERT_EQ(r.progress.size(), 3u);
  EXPECT_FALSE(r.all_recipients_final());
  r.progress[0].state = RecipientState::delivered;
  r.progress[1].state = RecipientState::failed;
  EXPECT_FALSE(r.all_recipients_final());
  r.progress[2].state = RecipientState::deferred;
  EXPECT_FALSE(r.all_recipients_final());
  r.progress[2].state = RecipientState::delivered;
  EXPECT_TRUE(r.all_recipients_final());
  auto back = queue_record_from_json(to_json(r));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->all_recipients_final());
}

TEST(QueueRecord, EmptyOptionalFieldsStayEmpty) {
  QueueRecord r;
  r.envelope.id = "x";
  r.envelope.recipients = {{"a@b", 0, ""}};
  r.start_progress();
  auto back = queue_record_from_json(to_json(r));
  ASSERT_TRUE(back);
  expect_same(r, *back);
  EXPECT_EQ(back->envelope.sender, "");  // the null reverse path <>
}

TEST(QueueRecord, GarbageIsNoRecord) {
  for (std::string text : {std::string(""), std::string("{"), std::string("null"), std::string("[]"),
                           std::string("42"), std::string("\"id\""), std::string("{}"),
                           std::string("{\"id\":\"\",\"state\":\"queued\",\"recipients\":[]}"),
                           std::string("{\"id\":7,\"state\":\"queued\",\"recipients\":[]}"),
                           std::string("{\"id\":\"x\",\"state\":\"lost\",\"recipients\":[]}"),
                           std::string("{\"id\":\"x\",\"state\":\"queued\"}"),
                           std::string("{\"id\":\"x\",\"state\":\"queued\",\"recipients\":{}}"),
                           std::string("{\"id\":\"x\",\"state\":\"queued\",\"recipients\":[1]}"),
                           std::string("{\"id\":\"x\",\"state\":\"queued\",\"recipients\":[]} trailing"),
                           std::string("\xff\xfe{}", 4), std::string("{\"id\":\"x\"\0}", 11)}) {
    EXPECT_FALSE(queue_record_from_json(text).has_value()) << text;
  }
  // Truncations of a good record: never a throw, never a half record.
  const std::string good = to_json(full_record());
  for (std::size_t n = 0; n + 2 < good.size(); n += 7)
    EXPECT_FALSE(queue_record_from_json(good.substr(0, n)).has_value()) << n;
}

TEST(QueueRecord, MinimalRecordReads) {
  auto r = queue_record_from_json("{\"id\":\"x\",\"state\":\"queued\",\"recipients\":[{\"address\":\"a@b\"}]}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->envelope.recipients.size(), 1u);
  ASSERT_EQ(r->progress.size(), 1u);
  EXPECT_EQ(r->progress[0].state, RecipientState::pending);
}

TEST(QueueRecord, PeekStateFindsTheMessageStateBehindTheRecipients) {
  // The queue-size metrics read only this; the recipients' own "state" keys
  // come first in the text, whatever their states are.
  for (auto s : {MessageState::queued, MessageState::delivering, MessageState::deferred, MessageState::done,
                 MessageState::bounced}) {
    QueueRecord r = full_record();
    r.state = s;
    r.progress[2].state = RecipientState::failed;
    EXPECT_EQ(peek_state(to_json(r)), s) << name_of(s);
  }
  EXPECT_FALSE(peek_state("{\"id\":\"x\"}").has_value());
}

TEST(QueueRecord, ExactLoginBytesAreKeptOnlyWhenJsonWouldChangeThem) {
  QueueRecord r = full_record();
  r.envelope.login = "j\xc3\xb8rn\x01";  // UTF-8 and a control: JSON keeps both
  EXPECT_EQ(to_json(r).find("login_hex"), std::string::npos);
  r.envelope.login = "j\xf8rn";  // Latin-1: not UTF-8
  EXPECT_NE(to_json(r).find("\"login_hex\":\"6af8726e\""), std::string::npos) << to_json(r);
}

TEST(QueueRecord, NonUtf8LoginBytesSurvive) {
  // XCLIENT LOGIN may carry any byte but controls (protocol/xclient.cpp): the
  // queue must hand the same bytes to the exporter that the session saw.
  for (std::string login : {std::string("\xff\xfe"), std::string("caf\xc3"), std::string("\xffj\xc3\xb8rn"),
                            std::string("\xc0\xaf"), std::string("\xed\xa0\x80"), std::string("ok\xe2\x82"),
                            std::string("\xc3\xbf"), std::string("j\xc3\xb8rn")}) {
    QueueRecord r = full_record();
    r.envelope.login = login;
    auto back = queue_record_from_json(to_json(r));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->envelope.login, login);
    // And the stored text stays a record a second round trip keeps.
    auto again = queue_record_from_json(to_json(*back));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->envelope.login, login);
  }
}

TEST(QueueRecord, Utf8AddressesSurvive) {
  QueueRecord r = full_record();
  r.envelope.sender = "pel\xc3\xa9@\xe4\xbe\x8b\xe3\x81\x88.jp";
  r.envelope.recipients[0].address = "\xf0\x9f\x93\xa7@example.net";
  auto back = queue_record_from_json(to_json(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->envelope.sender, r.envelope.sender);
  EXPECT_EQ(back->envelope.recipients[0].address, r.envelope.recipients[0].address);
}

}  // namespace
}  // namespace sluice::storage
