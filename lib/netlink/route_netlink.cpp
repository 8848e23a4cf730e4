#include "netlink/route_netlink.h"

#include <linux/if_link.h>
#include <linux/neighbour.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "netlink/reply_reader.h"

namespace tcpreap {

bool neighbour_unresolved(std::optional<uint16_t> state) {
  return !state || *state == NUD_NONE || (*state & (NUD_INCOMPLETE | NUD_FAILED)) != 0;
}

std::string nud_state_name(std::optional<uint16_t> state) {
  if (!state) return "absent";
  static constexpr std::pair<uint16_t, const char*> kNames[] = {
      {NUD_INCOMPLETE, "INCOMPLETE"}, {NUD_REACHABLE, "REACHABLE"}, {NUD_STALE, "STALE"},
      {NUD_DELAY, "DELAY"},           {NUD_PROBE, "PROBE"},         {NUD_FAILED, "FAILED"},
      {NUD_NOARP, "NOARP"},           {NUD_PERMANENT, "PERMANENT"},
  };
  std::string out;
  for (auto [bit, name] : kNames)
    if (*state & bit) out += (out.empty() ? "" : "|") + std::string(name);
  return out.empty() ? "NONE" : out;
}

namespace {

// Reads an address attribute of exactly 4 (IPv4) or 16 (IPv6) bytes.
std::optional<IpAddress> attr_address(const nlattr* a) {
  const uint16_t len = mnl_attr_get_payload_len(a);
  if (len == 4) return IpAddress::v4(mnl_attr_get_payload(a));
  if (len == 16) return IpAddress::v6(mnl_attr_get_payload(a));
  return std::nullopt;
}

// Each callback decodes one reply message into a plain value. Attributes
// are length-checked by mnl_attr_parse (each fits the message) and here
// (each has the size its type needs); unknown ones are skipped.
int route_attr(const nlattr* a, void* data) {
  auto* r = static_cast<RouteInfo*>(data);
  switch (mnl_attr_get_type(a)) {
    case RTA_OIF:
      if (mnl_attr_validate(a, MNL_TYPE_U32) < 0) return MNL_CB_ERROR;
      r->oif = mnl_attr_get_u32(a);
      break;
    case RTA_GATEWAY:
      r->gateway = attr_address(a);
      if (!r->gateway) return errno = EBADMSG, MNL_CB_ERROR;
      break;
    case RTA_VIA:  // IPv4 via an IPv6 gateway (RFC 5549)
      r->foreign_gateway = true;
      break;
  }
  return MNL_CB_OK;
}

int route_msg(const nlmsghdr* nlh, void* data) {
  if (nlh->nlmsg_type != RTM_NEWROUTE) return MNL_CB_OK;
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(rtmsg)) return errno = EBADMSG, MNL_CB_ERROR;
  rtmsg rtm;
  std::memcpy(&rtm, mnl_nlmsg_get_payload(nlh), sizeof rtm);
  static_cast<RouteInfo*>(data)->type = rtm.rtm_type;
  return mnl_attr_parse(nlh, sizeof(rtmsg), route_attr, data);
}

int neighbour_attr(const nlattr* a, void* data) {
  if (mnl_attr_get_type(a) == NDA_LLADDR) {
    const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
    // No exception may cross libmnl's C frames.
    try {
      static_cast<NeighbourInfo*>(data)->lladdr.assign(p, p + mnl_attr_get_payload_len(a));
    } catch (const std::bad_alloc&) {
      return errno = ENOMEM, MNL_CB_ERROR;
    }
  }
  return MNL_CB_OK;
}

int neighbour_msg(const nlmsghdr* nlh, void* data) {
  if (nlh->nlmsg_type != RTM_NEWNEIGH) return MNL_CB_OK;
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ndmsg)) return errno = EBADMSG, MNL_CB_ERROR;
  ndmsg ndm;
  std::memcpy(&ndm, mnl_nlmsg_get_payload(nlh), sizeof ndm);
  static_cast<NeighbourInfo*>(data)->state = ndm.ndm_state;
  return mnl_attr_parse(nlh, sizeof(ndmsg), neighbour_attr, data);
}

int link_attr(const nlattr* a, void* data) {
  auto* l = static_cast<LinkInfo*>(data);
  switch (mnl_attr_get_type(a)) {
    case IFLA_IFNAME:
      if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0) return MNL_CB_ERROR;
      try {  // no exception may cross libmnl's C frames
        l->name = mnl_attr_get_str(a);
      } catch (const std::bad_alloc&) {
        return errno = ENOMEM, MNL_CB_ERROR;
      }
      break;
    case IFLA_ADDRESS:
      l->addr_len = mnl_attr_get_payload_len(a);
      break;
  }
  return MNL_CB_OK;
}

int link_msg(const nlmsghdr* nlh, void* data) {
  if (nlh->nlmsg_type != RTM_NEWLINK) return MNL_CB_OK;
  if (mnl_nlmsg_get_payload_len(nlh) < sizeof(ifinfomsg)) return errno = EBADMSG, MNL_CB_ERROR;
  ifinfomsg ifi;
  std::memcpy(&ifi, mnl_nlmsg_get_payload(nlh), sizeof ifi);
  static_cast<LinkInfo*>(data)->flags = ifi.ifi_flags;
  return mnl_attr_parse(nlh, sizeof(ifinfomsg), link_attr, data);
}

}  // namespace


RouteNetlink::RouteNetlink(NetlinkSocket socket) : socket_(std::move(socket)), buffer_(kBufferSize) {}

// The route the kernel would use to reach `dst` from `src`.
Result<RouteInfo> RouteNetlink::route_to(const IpAddress& dst, const IpAddress& src) {
  nlmsghdr* nlh = start(RTM_GETROUTE, 0);
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = static_cast<uint8_t>(to_af(dst.family));
  rtm->rtm_dst_len = static_cast<uint8_t>(dst.size() * 8);
  mnl_attr_put(nlh, RTA_DST, dst.size(), dst.bytes.data());
  mnl_attr_put(nlh, RTA_SRC, src.size(), src.bytes.data());
  RouteInfo r;
  if (auto s = transact(nlh, route_msg, &r); !s) return s.error().wrap("looking up the route to " + dst.to_string());
  return r;
}

// The neighbour entry of `addr` on interface `ifindex` (RTM_GETNEIGH
// without a dump: Linux 5.0+); no state when there is none.
Result<NeighbourInfo> RouteNetlink::neighbour(uint32_t ifindex, const IpAddress& addr) {
  nlmsghdr* nlh = start(RTM_GETNEIGH, 0);
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = static_cast<uint8_t>(to_af(addr.family));
  ndm->ndm_ifindex = static_cast<int>(ifindex);
  mnl_attr_put(nlh, NDA_DST, addr.size(), addr.bytes.data());
  NeighbourInfo n;
  if (auto s = transact(nlh, neighbour_msg, &n); !s) {
    if (s.error().errnum() == ENOENT) return NeighbourInfo{};
    return s.error().wrap("reading the neighbour entry of " + addr.to_string());
  }
  return n;
}

Result<LinkInfo> RouteNetlink::link(uint32_t ifindex) {
  nlmsghdr* nlh = start(RTM_GETLINK, 0);
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = static_cast<int>(ifindex);
  mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);  // keep the reply small
  LinkInfo l;
  if (auto s = transact(nlh, link_msg, &l); !s)
    return s.error().wrap("reading interface " + std::to_string(ifindex));
  return l;
}

// Creates `addr` -> `lladdr` in `state`. NLM_F_CREATE without NLM_F_REPLACE:
// an existing valid entry keeps its link-layer address and state
// (__neigh_update() without NEIGH_UPDATE_F_OVERRIDE), an unresolved one
// takes ours and sends what it had queued. neigh_add() sets NDA_PROTOCOL
// whatever __neigh_update() did: a valid entry kept as it was still takes
// our protocol (seen on Linux 6.18), so the protocol alone never says an
// entry's address is ours.
Status RouteNetlink::add_neighbour(uint32_t ifindex, const IpAddress& addr, const std::vector<uint8_t>& lladdr,
                                   uint16_t state, uint8_t protocol) {
  nlmsghdr* nlh = start(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_ACK);
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = static_cast<uint8_t>(to_af(addr.family));
  ndm->ndm_ifindex = static_cast<int>(ifindex);
  ndm->ndm_state = state;
  mnl_attr_put(nlh, NDA_DST, addr.size(), addr.bytes.data());
  mnl_attr_put(nlh, NDA_LLADDR, lladdr.size(), lladdr.data());
  if (protocol != 0) mnl_attr_put_u8(nlh, NDA_PROTOCOL, protocol);
  if (auto s = transact(nlh, nullptr, nullptr); !s) {
    Error e = s.error().wrap("adding a " + nud_state_name(state) + " neighbour entry for " + addr.to_string());
    if (e.errnum() == EPERM) return Error(EPERM, e.context() + " (needs CAP_NET_ADMIN)");
    return e;
  }
  return Ok{};
}

// Deletes the entry; one already gone is fine.
Status RouteNetlink::remove(uint32_t ifindex, const IpAddress& addr) {
  nlmsghdr* nlh = start(RTM_DELNEIGH, NLM_F_ACK);
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = static_cast<uint8_t>(to_af(addr.family));
  ndm->ndm_ifindex = static_cast<int>(ifindex);
  mnl_attr_put(nlh, NDA_DST, addr.size(), addr.bytes.data());
  if (auto s = transact(nlh, nullptr, nullptr); !s && s.error().errnum() != ENOENT)
    return s.error().wrap("deleting the neighbour entry for " + addr.to_string());
  return Ok{};
}

Result<std::vector<NeighbourEntry>> RouteNetlink::neighbours(Family family) {
  const std::string what = std::string("dumping the ") + (family == Family::kIPv4 ? "IPv4" : "IPv6") +
                           " neighbour table";
  for (int attempt = 1;; ++attempt) {
    nlmsghdr* nlh = start(RTM_GETNEIGH, NLM_F_DUMP);
    auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
    ndm->ndm_family = static_cast<uint8_t>(to_af(family));
    if (auto s = socket_.send({request_.data(), nlh->nlmsg_len}); !s) return s.error().wrap(what);
    NeighbourDumpReader reader(nlh->nlmsg_seq, socket_.portid());
    for (bool done = false; !done;) {
      auto datagram = receive_reply(nlh->nlmsg_seq);
      if (!datagram) return datagram.error().wrap(what);
      auto fed = reader.feed(*datagram);
      // The socket may still hold the rest of this dump: the next request
      // reads past it (receive_reply).
      if (!fed) return fed.error().wrap(what);
      done = *fed;
    }
    if (!reader.interrupted()) return reader.entries();
    if (attempt == kDumpAttempts)
      return Error(EINTR, what + ": the table changed during each of " + std::to_string(attempt) + " dumps");
  }
}

nlmsghdr* RouteNetlink::start(uint16_t type, uint16_t flags) {
  request_.fill(0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(request_.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  nlh->nlmsg_seq = ++seq_;
  return nlh;
}

// Sends `nlh` and runs `cb` on each message of its reply. A kernel error
// (NLMSG_ERROR) comes back as an Error with its errno.
Status RouteNetlink::transact(nlmsghdr* nlh, mnl_cb_t cb, void* data) {
  if (auto s = socket_.send({request_.data(), nlh->nlmsg_len}); !s) return s;
  auto datagram = receive_reply(nlh->nlmsg_seq);
  if (!datagram) return datagram.error();
  // Not a dump: the reply (a message, or the ACK) is one datagram.
  ReplyReader reply = ReplyReader::answers(nlh->nlmsg_seq, 1, socket_.portid(), kRtnetlinkErrnos);
  reply.start(*datagram);
  while (true) {
    auto next = reply.next();
    if (!next) return next.error().wrap("route netlink reply");
    if (!*next) return Ok{};
    const ReplyMessage& m = **next;
    switch (m.kind) {
      case ReplyMessage::Kind::kError:
        return Error(m.errnum, "route netlink reply");
      case ReplyMessage::Kind::kAck:
      case ReplyMessage::Kind::kDone:
        return Ok{};
      case ReplyMessage::Kind::kData:
        // The callbacks parse attributes in place with libmnl: the buffer
        // is 4-byte aligned, and so is every message in it.
        if (cb && cb(reinterpret_cast<const nlmsghdr*>(m.message.data()), data) == MNL_CB_ERROR)
          return Error(errno, "route netlink reply");
        break;
    }
  }
}

Result<std::span<const uint8_t>> RouteNetlink::receive_reply(uint32_t seq) {
  // Bounds a kernel that would never end an abandoned dump; a dump of
  // 100 000 neighbours is a few hundred datagrams.
  constexpr int kMaxLeftOver = 100'000;
  for (int dropped = 0;; ++dropped) {
    auto n = socket_.receive(buffer_);
    if (!n) return n.error();
    nlmsghdr first;
    // Requests are answered in order, so a datagram of another request is
    // one of an earlier request's: never ours to read.
    if (*n >= sizeof first) {
      std::memcpy(&first, buffer_.data(), sizeof first);
      if (first.nlmsg_seq != seq && dropped < kMaxLeftOver) continue;
    }
    return std::span<const uint8_t>(buffer_.data(), *n);
  }
}

}  // namespace tcpreap
