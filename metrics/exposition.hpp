// exposition.hpp — Prometheus text exposition format 0.0.4.
//
// One "# HELP" and one "# TYPE" line per family, then its samples:
//   name{label="value",...} value
// Label values escape backslash, double quote and newline; HELP text escapes
// backslash and newline. Values print in the shortest exact form, +Inf, -Inf
// and NaN as Prometheus spells them. Histograms come as _bucket{le=...}
// (cumulative, ending with le="+Inf"), _sum and _count.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "metrics/family.hpp"

namespace sluice::metrics {

inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string render_text(const std::vector<FamilySnapshot>& families);

std::string escape_label_value(std::string_view v);
std::string escape_help(std::string_view v);
std::string format_value(double v);

}  // namespace sluice::metrics
