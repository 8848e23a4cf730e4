#include "wire/capture_session.h"

#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace tcpreap {

Result<CaptureMatch> attach_finest_program(std::span<const Flow> flows, CaptureDirection direction,
                                           const std::function<Status(std::span<const sock_filter>)>& attach) {
  Status attached = Error(0, "no capture program fits");
  for (CaptureMatch m : {CaptureMatch::kExactFlows, CaptureMatch::kSourcePorts, CaptureMatch::kAnyTcp}) {
    auto code = compile_capture_program(flows, m, direction);
    if (!code) continue;
    attached = attach(*code);
    if (attached) return m;
    if (attached.error().errnum() != ENOMEM) break;
  }
  return attached.error();
}

Status CaptureSession::start(std::span<const Flow> flows, CaptureDirection direction) {
  auto m = attach_finest_program(flows, direction,
                                 [this](std::span<const sock_filter> code) { return capture_.set_program(code); });
  if (!m) return m.error();
  match_ = *m;
  // Reading resets the counter. Should it fail, take_drops() says so.
  auto reset = capture_.take_drops();
  counting_ = reset ? Status(Ok{}) : Status(reset.error());
  return Ok{};
}

Status CaptureSession::watch(SegmentWatcher& watcher) {
  using std::chrono::milliseconds;
  std::array<uint8_t, 256> frame{};
  static_assert(sizeof frame > kCaptureSnapLen, "room for all a program keeps");
  while (!watcher.done()) {
    const auto wake = watcher.tick(Clock::now());
    if (!wake || watcher.done()) return Ok{};
    const auto wait =
        std::clamp<milliseconds::rep>(std::chrono::ceil<milliseconds>(*wake - Clock::now()).count(), 0, 60'000);
    pollfd p{capture_.fd(), POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(wait));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Error(errno, "waiting on the capture");
    if (ready > 0)
      if (auto s = read_queued(watcher, frame); !s) return s;
  }
  return Ok{};
}

Status CaptureSession::read_queued(SegmentWatcher& watcher, std::span<uint8_t> frame) {
  while (!watcher.done()) {
    auto f = capture_.next(frame);
    if (!f) return f.error();
    if (!*f) return Ok{};
    // A malformed frame is a kernel surprise, not something a peer can
    // send: the program checked these headers.
    auto seg = parse_segment({frame.data(), (*f)->size});
    if (!seg) continue;
    watcher.on_segment(*seg);
  }
  return Ok{};
}

Status CaptureSession::stop() {
  if (auto s = capture_.set_program(drop_all_program()); !s)
    return s.error().wrap("leaving the capture accepting nothing");
  return Ok{};
}

Result<uint32_t> CaptureSession::take_drops() {
  if (!counting_) return counting_.error().wrap("counting the capture's drops from the start");
  return capture_.take_drops();
}

}  // namespace tcpreap
