#include "filters/dmarc_forensic_report.hpp"

#include <ctime>

namespace sluice::filters {

namespace {

std::uint64_t size_limit(std::string_view uri) {
  const auto bang = uri.find('!');
  if (bang == std::string_view::npos) return UINT64_MAX;
  std::uint64_t n = 0;
  std::size_t i = bang + 1;
  for (; i < uri.size() && uri[i] >= '0' && uri[i] <= '9'; ++i) n = n * 10 + static_cast<unsigned>(uri[i] - '0');
  if (i < uri.size()) {
    switch (uri[i] | 0x20) {
      case 'k': n <<= 10; break;
      case 'm': n <<= 20; break;
      case 'g': n <<= 30; break;
      case 't': n <<= 40; break;
    }
  }
  return n;
}

std::string rfc5322_date(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string clean(std::string_view s) {
  std::string o;
  for (char c : s) o += (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) ? '?' : c;
  return o;
}

}  // namespace

bool forensic_report_wanted(const FilterResults& r) {
  if (!r.dmarc || !r.dmarc->record || r.dmarc->record->ruf.empty()) return false;
  const DmarcResult& d = *r.dmarc;
  const bool dmarc_failed = d.status == DmarcStatus::reject || d.status == DmarcStatus::quarantine ||
                            d.status == DmarcStatus::none;
  bool want = false;
  std::string_view fo = d.record->fo;
  for (std::size_t start = 0; start <= fo.size();) {
    const auto end = fo.find(':', start);
    const std::string_view o = fo.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (o == "0") want = want || dmarc_failed;                              // every mechanism failed to align
    if (o == "1") want = want || !d.spf_aligned || !d.dkim_aligned;        // any mechanism failed to align
    if (o == "s") want = want || !r.spf || r.spf->verdict != SpfVerdict::pass;
    if (o == "d")
      for (const auto& k : r.dkim) want = want || !k.passed();
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return want;
}

std::vector<std::string> forensic_recipients(const DmarcRecord& record, std::size_t report_size) {
  std::vector<std::string> out;
  for (const auto& uri : record.ruf) {
    if (uri.size() < 8) continue;
    if (report_size > size_limit(uri)) continue;
    const auto bang = uri.find('!');
    std::string addr = uri.substr(7, bang == std::string::npos ? std::string::npos : bang - 7);
    if (addr.find('@') != std::string::npos) out.push_back(clean(addr));
    if (out.size() == kMaxForensicRecipients) break;
  }
  return out;
}

std::string forensic_report(const FilterResults& r, const ForensicFacts& f, const std::vector<std::string>& rcpts) {
  const DmarcResult& d = *r.dmarc;
  const std::string boundary = "sluice-arf-" + f.message_id;
  std::string to;
  for (const auto& a : rcpts) to += (to.empty() ? "" : ", ") + a;
  std::string m;
  m += "From: " + clean(f.sender) + "\r\n";
  m += "To: " + to + "\r\n";
  m += "Subject: DMARC failure report for " + clean(d.from_domain) + " from " + clean(f.client_ip) + "\r\n";
  m += "Date: " + rfc5322_date(f.arrival) + "\r\n";
  m += "Message-ID: <" + clean(f.message_id) + ".dmarc@" + clean(f.reporter) + ">\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: multipart/report; report-type=feedback-report;\r\n\tboundary=\"" + boundary + "\"\r\n\r\n";
  m += "--" + boundary + "\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n";
  m += "A message claiming to be from " + clean(d.from_domain) + " failed DMARC at " + clean(f.reporter) +
       ": it came from " + clean(f.client_ip) + " and had no aligned SPF or DKIM pass (" + clean(d.status_text) +
       ").\r\n\r\n";
  m += "--" + boundary + "\r\nContent-Type: message/feedback-report\r\n\r\n";
  m += "Feedback-Type: auth-failure\r\n";
  m += "User-Agent: Sluice\r\n";
  m += "Version: 1\r\n";
  m += "Original-Mail-From: <" + clean(f.mail_from) + ">\r\n";
  m += "Arrival-Date: " + rfc5322_date(f.arrival) + "\r\n";
  m += "Reporting-MTA: dns; " + clean(f.reporter) + "\r\n";
  m += "Source-IP: " + clean(f.client_ip) + "\r\n";
  m += "Reported-Domain: " + clean(d.from_domain) + "\r\n";
  if (!f.authentication_results.empty()) m += f.authentication_results + "\r\n";
  m += "Auth-Failure: dmarc\r\n";
  m += "Delivery-Result: " + f.delivery_result + "\r\n";
  for (const auto& k : r.dkim)
    if (!k.domain.empty() && !k.passed())
      m += "DKIM-Domain: " + clean(k.domain) + "\r\nDKIM-Selector: " + clean(k.selector) + "\r\n";
  m += "\r\n--" + boundary + "\r\nContent-Type: text/rfc822-headers\r\n\r\n";
  m += r.header_copy;
  m += "\r\n--" + boundary + "--\r\n";
  return m;
}

}  // namespace sluice::filters
