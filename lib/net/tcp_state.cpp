#include "net/tcp_state.h"

#include <array>

namespace tcpreap {

namespace {

struct StateName {
  std::string_view name;
  uint32_t mask;
};

constexpr uint32_t bit(TcpState s) { return 1u << static_cast<unsigned>(s); }

constexpr uint32_t kConnected = bit(TcpState::kEstablished) | bit(TcpState::kSynSent) |
                                bit(TcpState::kFinWait1) | bit(TcpState::kFinWait2) |
                                bit(TcpState::kCloseWait) | bit(TcpState::kLastAck) |
                                bit(TcpState::kClosing);
constexpr uint32_t kSynchronized = kConnected & ~bit(TcpState::kSynSent);

// The first kNames entry naming each single state is its name; "listen"
// (after "listening") is only read.

// The names of ss(8)'s STATE-FILTER.
constexpr std::array<StateName, 15> kNames{{
    {"established", bit(TcpState::kEstablished)},
    {"syn-sent", bit(TcpState::kSynSent)},
    {"syn-recv", bit(TcpState::kSynRecv)},
    {"fin-wait-1", bit(TcpState::kFinWait1)},
    {"fin-wait-2", bit(TcpState::kFinWait2)},
    {"time-wait", bit(TcpState::kTimeWait)},
    {"closed", bit(TcpState::kClose)},
    {"close-wait", bit(TcpState::kCloseWait)},
    {"last-ack", bit(TcpState::kLastAck)},
    {"listening", bit(TcpState::kListen)},
    {"listen", bit(TcpState::kListen)},
    {"closing", bit(TcpState::kClosing)},
    {"all", StateSet::all().mask()},
    {"connected", kConnected},
    {"synchronized", kSynchronized},
}};

}  // namespace

const char* state_label(uint8_t kernel_state) {
  static constexpr const char* kLabels[] = {"UNKNOWN",    "ESTAB",      "SYN-SENT", "SYN-RECV",
                                            "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "UNCONN",
                                            "CLOSE-WAIT", "LAST-ACK",   "LISTEN",   "CLOSING",
                                            "SYN-RECV"};
  return kernel_state < std::size(kLabels) ? kLabels[kernel_state] : "UNKNOWN";
}

StateSet StateSet::connected() { return StateSet(kConnected); }

StateSet StateSet::synchronized() { return StateSet(kSynchronized); }

std::vector<std::string> StateSet::names() const {
  for (uint32_t group : {all().mask(), kConnected, kSynchronized})
    if (mask_ == group)
      for (const auto& n : kNames)
        if (n.mask == group) return {std::string(n.name)};
  std::vector<std::string> out;
  for (unsigned state = 0; state < 32; ++state) {
    if (!contains(static_cast<uint8_t>(state))) continue;
    for (const auto& n : kNames) {
      if (n.mask == (1u << state)) {
        out.emplace_back(n.name);
        break;
      }
    }
  }
  return out;
}

Result<StateSet> StateSet::parse_list(std::string_view text) {
  uint32_t mask = 0;
  while (true) {
    auto comma = text.find(',');
    std::string_view name = text.substr(0, comma);
    bool found = false;
    for (const auto& n : kNames) {
      if (n.name == name) {
        mask |= n.mask;
        found = true;
        break;
      }
    }
    if (!found) {
      std::string known;
      for (const auto& n : kNames) known += (known.empty() ? "" : ", ") + std::string(n.name);
      return Error(0, "unknown TCP state '" + std::string(name) + "' (known: " + known + ")");
    }
    if (comma == std::string_view::npos) return StateSet(mask);
    text.remove_prefix(comma + 1);
  }
}

bool StateSet::contains_reported(uint8_t reported_state) const {
  if (reported_state == static_cast<uint8_t>(TcpState::kSynRecv))
    return (kernel_mask() & (bit(TcpState::kSynRecv) | bit(TcpState::kNewSynRecv))) != 0;
  return contains(reported_state);
}

uint32_t StateSet::kernel_mask() const {
  uint32_t m = mask_;
  if (m & bit(TcpState::kSynRecv)) m |= bit(TcpState::kNewSynRecv);
  return m;
}

}  // namespace tcpreap
