#pragma once
// Reads the reply to one RTM_GETNEIGH dump (NLM_F_DUMP), datagram by
// datagram, into plain values. No socket here: RouteNetlink::neighbours()
// feeds it what it receives, tests feed it bytes.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "core/error.h"
#include "net/ip_address.h"
#include "netlink/reply_reader.h"

namespace tcpreap {

// One neighbour entry as the kernel reported it.
struct NeighbourEntry {
  uint32_t ifindex = 0;
  IpAddress addr;                               // NDA_DST
  uint16_t state = 0;                           // NUD_*
  std::optional<std::vector<uint8_t>> lladdr;   // NDA_LLADDR: the kernel sends it for valid states only
  std::optional<uint8_t> protocol;              // NDA_PROTOCOL (Linux 5.2+): who made the entry

  bool operator==(const NeighbourEntry&) const = default;
};

class NeighbourDumpReader {
 public:
  // Replies must carry this sequence number and port id (0 = not checked,
  // as libmnl's mnl_nlmsg_seq_ok/portid_ok decide).
  NeighbourDumpReader(uint32_t seq, uint32_t portid);

  // Feeds one received datagram (4-byte aligned). Returns true once
  // NLMSG_DONE has arrived. Every length is checked: a message must fit
  // the datagram, its ndmsg the message, its attributes the message
  // exactly, NDA_DST the family, NDA_PROTOCOL one byte; unknown attributes
  // are skipped. An Error (EBADMSG for malformed input, EPROTO for another
  // request's or socket's reply, the kernel's errno for NLMSG_ERROR or a
  // failed NLMSG_DONE) leaves the dump unusable. Framing is ReplyReader's.
  //
  // NLM_F_DUMP_INTR (the table changed while it was dumped) marks the dump
  // interrupted(): its remaining entries are read to NLMSG_DONE but not
  // kept, and the caller dumps again.
  Result<bool> feed(std::span<const uint8_t> datagram);

  bool interrupted() const { return reply_.interrupted(); }
  const std::vector<NeighbourEntry>& entries() const { return entries_; }

 private:
  ReplyReader reply_;
  std::vector<NeighbourEntry> entries_;
};

}  // namespace tcpreap
