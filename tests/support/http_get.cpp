#include "support/http_get.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "support/support_error.h"
#include "support/unique_fd.h"

namespace tcpreap::test {

namespace {

using Clock = std::chrono::steady_clock;

// Waits for `events` on fd until `deadline`; throws when it passes.
void wait_for(int fd, short events, Clock::time_point deadline, const std::string& what) {
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) throw SupportError(what + ": timed out");
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno(what + ": poll", errno);
    if (r > 0) return;
  }
}

// One series: name{label="value",...} value [timestamp].
struct Series {
  std::string name;
  MetricLabels labels;
  double value = 0;
};

[[noreturn]] void bad_line(const std::string& line, const std::string& why) {
  throw SupportError("metrics: " + why + " in line '" + line + "'");
}

Series parse_series(const std::string& line) {
  Series s;
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ' && line[i] != '\t') ++i;
  s.name = line.substr(0, i);
  if (s.name.empty()) bad_line(line, "no metric name");
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (true) {
      while (i < line.size() && (line[i] == ' ' || line[i] == ',')) ++i;
      if (i >= line.size()) bad_line(line, "unterminated labels");
      if (line[i] == '}') {
        ++i;
        break;
      }
      const size_t eq = line.find('=', i);
      if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') bad_line(line, "bad label");
      std::string key = line.substr(i, eq - i);
      std::string value;
      i = eq + 2;
      while (true) {
        if (i >= line.size()) bad_line(line, "unterminated label value");
        const char c = line[i++];
        if (c == '"') break;
        if (c != '\\') {
          value += c;
          continue;
        }
        if (i >= line.size()) bad_line(line, "unterminated escape");
        const char e = line[i++];
        value += e == 'n' ? '\n' : e;  // \\ and \" stand for themselves
      }
      if (!s.labels.emplace(std::move(key), std::move(value)).second) bad_line(line, "a label twice");
    }
  }
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  const std::string number = line.substr(i, line.find_first_of(" \t", i) - i);
  if (number.empty()) bad_line(line, "no value");
  char* end = nullptr;
  s.value = std::strtod(number.c_str(), &end);  // "NaN", "+Inf" and "-Inf" too
  if (end != number.c_str() + number.size()) bad_line(line, "bad value '" + number + "'");
  return s;
}

std::vector<Series> series_of(const std::string& text, const std::string& name) {
  std::vector<Series> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    // Only the lines of `name` are parsed: a prefix test is cheap.
    if (line.compare(0, name.size(), name) != 0) continue;
    if (line.size() > name.size() && line[name.size()] != '{' && line[name.size()] != ' ') continue;
    out.push_back(parse_series(line));
  }
  return out;
}

std::string describe(const std::string& name, const MetricLabels& labels) {
  std::string s = name + "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    s += (first ? "" : ",") + k + "=\"" + v + "\"";
    first = false;
  }
  return s + "}";
}

}  // namespace

std::string http_get(const std::string& host, uint16_t port, const std::string& path,
                     std::chrono::milliseconds timeout) {
  const std::string url = "http://" + host + ":" + std::to_string(port) + path;
  const auto deadline = Clock::now() + timeout;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &sin.sin_addr) != 1) throw SupportError(url + ": not an IPv4 address");
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno(url + ": socket", errno);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&sin), sizeof sin) != 0) {
    if (errno != EINPROGRESS) throw_errno(url + ": connect", errno);
    wait_for(fd.get(), POLLOUT, deadline, url + ": connect");
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) throw_errno(url + ": SO_ERROR", errno);
    if (err != 0) throw_errno(url + ": connect", err);
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + host + ":" + std::to_string(port) + "\r\n\r\n";
  for (size_t sent = 0; sent < request.size();) {
    wait_for(fd.get(), POLLOUT, deadline, url + ": send");
    const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) throw_errno(url + ": send", errno);
    sent += static_cast<size_t>(n);
  }
  std::string response;
  while (true) {
    wait_for(fd.get(), POLLIN, deadline,
             url + ": reading the response (" + std::to_string(response.size()) + " bytes so far)");
    char buf[8192];
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) throw_errno(url + ": recv", errno);
    if (n == 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  const size_t head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos)
    throw SupportError(url + ": no end of headers in " + std::to_string(response.size()) + " bytes");
  const std::string status_line = response.substr(0, response.find("\r\n"));
  // "HTTP/1.x 200 OK"
  const size_t sp = status_line.find(' ');
  if (status_line.rfind("HTTP/", 0) != 0 || sp == std::string::npos)
    throw SupportError(url + ": bad status line '" + status_line + "'");
  if (status_line.compare(sp + 1, 3, "200") != 0) throw SupportError(url + ": " + status_line);
  return response.substr(head_end + 4);
}

std::optional<double> find_metric(const std::string& text, const std::string& name, const MetricLabels& labels) {
  std::optional<double> found;
  for (const Series& s : series_of(text, name)) {
    if (s.labels != labels) continue;
    if (found) throw SupportError("metrics: " + describe(name, labels) + " appears twice");
    found = s.value;
  }
  return found;
}

double metric_value(const std::string& text, const std::string& name, const MetricLabels& labels) {
  if (auto v = find_metric(text, name, labels)) return *v;
  std::string there;
  for (const Series& s : series_of(text, name)) there += "\n  " + describe(s.name, s.labels);
  throw SupportError("metrics: no series " + describe(name, labels) +
                     (there.empty() ? std::string(" (no series of that name)") : "; there are:" + there));
}

}  // namespace tcpreap::test
