#include "reap/reaper.h"

#include "reap/rst_injector.h"
#include "reap/socket_destroyer.h"

namespace tcpreap {

Result<Reaper> Reaper::open(ReapMethod method, const SocketMaker& maker) {
  Method destroy;
  if (method != ReapMethod::kRst) {
    auto d = SocketDestroyer::open(maker);
    if (!d) return d.error().wrap("opening the SOCK_DESTROY socket");
    auto shared = std::make_shared<SocketDestroyer>(std::move(*d));
    // Never an Error: transport trouble ends in per-socket outcomes, so the
    // EOPNOTSUPP answers `auto` acts on survive a batch that went wrong.
    destroy = [shared](std::span<const TcpSocket> s) -> Result<std::vector<ReapOutcome>> { return shared->destroy(s); };
  }
  Method rst;
  std::string unavailable, opened;
  if (method != ReapMethod::kDestroy) {
    auto injector = RstInjector::open(maker);
    if (injector) {
      opened = injector->open_note();
      auto shared = std::make_shared<RstInjector>(std::move(*injector));
      rst = [shared](std::span<const TcpSocket> s) -> Result<std::vector<ReapOutcome>> { return shared->reset(s); };
    } else {
      unavailable = injector.error().message();
    }
  }
  Reaper reaper(method, std::move(destroy), std::move(rst), std::move(unavailable));
  if (!opened.empty()) reaper.notice_ = std::move(opened);
  return reaper;
}

Reaper::Reaper(ReapMethod method, Method destroy, Method rst, std::string rst_unavailable)
    : method_(method), destroy_(std::move(destroy)), rst_(std::move(rst)), rst_unavailable_(std::move(rst_unavailable)) {
  if (!rst_ && rst_unavailable_.empty()) rst_unavailable_ = "RST injection was not set up";
}

std::optional<std::string> Reaper::take_notice() {
  auto n = std::move(notice_);
  notice_.reset();
  return n;
}

std::vector<ReapOutcome> Reaper::via(const Method& m, ReapVia v, std::span<const TcpSocket> sockets) {
  if (!m) {
    ReapOutcome o;
    o.result = ReapResult::kFailed;
    o.via = v;
    o.detail = v == ReapVia::kRst ? "RST injection unavailable: " + rst_unavailable_ : "SOCK_DESTROY unavailable";
    return std::vector<ReapOutcome>(sockets.size(), o);
  }
  auto r = m(sockets);
  if (r) return std::move(*r);
  ReapOutcome o;
  o.result = ReapResult::kFailed;
  o.via = v;
  o.errnum = r.error().errnum();
  o.detail = r.error().message();
  return std::vector<ReapOutcome>(sockets.size(), o);
}

std::vector<ReapOutcome> Reaper::reap(std::span<const TcpSocket> sockets) {
  if (sockets.empty()) return {};
  if (method_ == ReapMethod::kRst || switched_) return via(rst_, ReapVia::kRst, sockets);
  std::vector<ReapOutcome> out = via(destroy_, ReapVia::kDestroy, sockets);
  if (method_ != ReapMethod::kAuto) return out;

  // auto: what the kernel cannot destroy goes to RST injection, now and on.
  std::vector<size_t> unsupported;
  for (size_t i = 0; i < out.size(); ++i)
    if (out[i].result == ReapResult::kUnsupported) unsupported.push_back(i);
  if (unsupported.empty()) return out;
  switched_ = true;
  const std::string switched =
      rst_ ? "this kernel cannot SOCK_DESTROY (EOPNOTSUPP): using RST injection from now on"
           : "this kernel cannot SOCK_DESTROY (EOPNOTSUPP), and RST injection is unavailable: " + rst_unavailable_;
  notice_ = notice_ ? *notice_ + "; " + switched : switched;
  std::vector<TcpSocket> retry;
  for (size_t i : unsupported) retry.push_back(sockets[i]);
  std::vector<ReapOutcome> second = via(rst_, ReapVia::kRst, retry);
  for (size_t k = 0; k < unsupported.size(); ++k) out[unsupported[k]] = std::move(second[k]);
  return out;
}

}  // namespace tcpreap
