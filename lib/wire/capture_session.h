#pragma once
// One capture session: what the challenge-ACK learner and the liveness
// prober each do with the PacketCapture, done one way -
//   start()  attach the finest program for the flows waited on, stepping
//            down to a coarser one when the kernel refuses it with ENOMEM;
//   watch()  poll the capture, parse every queued frame, hand the segments
//            to a SegmentWatcher and run its timers, until it is done;
//   stop()   leave the capture accepting nothing again, and say if that
//            failed (the program stays attached: frames keep queuing until
//            the next start() empties the queue).
// Not thread-safe; uses, and does not own, the capture.

#include <linux/filter.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "core/error.h"
#include "wire/capture_program.h"
#include "wire/packet_capture.h"
#include "wire/tcp_packet.h"

namespace tcpreap {

// The step-down: compiles `flows` as kExactFlows, kSourcePorts, then kAnyTcp,
// skipping a program too long to compile, and hands each to `attach` until
// one is taken. Only ENOMEM (the optmem_max charge, see
// compile_capture_program) moves on to the next; any other failure ends it.
// Returns the match attached, else the last failure ("no capture program
// fits" when none compiled).
Result<CaptureMatch> attach_finest_program(std::span<const Flow> flows, CaptureDirection direction,
                                           const std::function<Status(std::span<const sock_filter>)>& attach);

// What one CaptureSession::watch() serves.
class SegmentWatcher {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~SegmentWatcher() = default;

  // Runs what is due at `now` (timers); returns when to be called again at
  // the latest (earlier if a frame arrives), or nothing to end the watch.
  virtual std::optional<Clock::time_point> tick(Clock::time_point now) = 0;
  // A captured segment. The program may be coarser than exact: the watcher
  // checks the flow.
  virtual void on_segment(const TcpSegment& segment) = 0;
  // Nothing more awaited: the watch ends, leaving later frames queued.
  virtual bool done() const = 0;
};

class CaptureSession {
 public:
  using Clock = SegmentWatcher::Clock;

  explicit CaptureSession(PacketCapture& capture) : capture_(capture) {}

  // Replaces the capture's program with the finest one for `flows` in
  // `direction` that the kernel takes (attach_finest_program): frames queued
  // before are discarded. Drops are counted from here.
  Status start(std::span<const Flow> flows, CaptureDirection direction);
  // The match start() attached (kExactFlows before a start()).
  CaptureMatch match() const { return match_; }

  // Until `watcher` is done or its tick() returns nothing: runs its timers,
  // waits on the capture (at most 60 s at a time) and hands it every queued
  // frame that parses as a TCP segment (malformed ones are skipped: the
  // program let through only headers it checked). Allocates nothing per
  // frame. Fails when polling or reading the capture does.
  Status watch(SegmentWatcher& watcher);

  // Attaches drop_all_program(): nothing queues up between sessions.
  Status stop();

  // Frames the kernel dropped (receive buffer full) since start() or the
  // last call.
  Result<uint32_t> take_drops();

 private:
  Status read_queued(SegmentWatcher& watcher, std::span<uint8_t> frame);

  PacketCapture& capture_;
  CaptureMatch match_ = CaptureMatch::kExactFlows;
  Status counting_ = Ok{};  // resetting the drop counter in start(): its failure, if any
};

}  // namespace tcpreap
