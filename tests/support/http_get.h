#pragma once
// Scraping a Prometheus exporter from a kernel test: a plain HTTP/1.0 GET
// and a parser of the text exposition format, enough to look one series up.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace tcpreap::test {

// GET http://host:port/path over a TCP socket made in the calling thread's
// network namespace (call it inside a ScopedNetns of the server's), as
// HTTP/1.0: the server closes after the response, which is read to EOF.
// Returns the body of a 200 response. Throws SupportError when it cannot
// connect, on any other status, a malformed response, or when the whole
// exchange takes longer than `timeout`. `host` is an IPv4 address.
std::string http_get(const std::string& host, uint16_t port, const std::string& path,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

using MetricLabels = std::map<std::string, std::string>;

// The value of the series of `name` whose labels are exactly `labels` (in
// any order in the text), in Prometheus text format `text`; nothing when
// there is no such series. Throws SupportError on a line it cannot parse
// or when the series appears twice.
std::optional<double> find_metric(const std::string& text, const std::string& name, const MetricLabels& labels = {});

// As find_metric, but throws SupportError when the series is absent (the
// message lists the series of that name there are).
double metric_value(const std::string& text, const std::string& name, const MetricLabels& labels = {});

}  // namespace tcpreap::test
