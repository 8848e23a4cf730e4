#include "diag/scan_query.h"

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include "filter/bytecode_compiler.h"

namespace tcpreap {

namespace {

std::vector<uint8_t> build_request(Family family, uint32_t states, const std::vector<uint8_t>& bytecode) {
  std::vector<uint8_t> buf(MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(inet_diag_req_v2)) +
                           (bytecode.empty() ? 0 : MNL_ATTR_HDRLEN + MNL_ALIGN(bytecode.size())));
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  auto* req = static_cast<inet_diag_req_v2*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_req_v2)));
  req->sdiag_family = static_cast<uint8_t>(to_af(family));
  req->sdiag_protocol = IPPROTO_TCP;
  req->idiag_states = states;
  // idiag_ext is a bitmask of (attribute type - 1): bit 1 << (INET_DIAG_INFO - 1) asks for tcp_info.
  req->idiag_ext = 1 << (INET_DIAG_INFO - 1);
  if (!bytecode.empty())
    mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, bytecode.size(), bytecode.data());
  buf.resize(nlh->nlmsg_len);
  return buf;
}

}  // namespace

Result<ScanQuery> ScanQuery::compile(const SocketFilter& filter) {
  auto bytecode = compile_bytecode(filter);
  if (!bytecode) return bytecode.error();
  ScanQuery q;
  q.filter_ = filter;
  const uint32_t states = filter.states.kernel_mask();
  if (states == 0) return q;  // nothing can match: no dump at all
  for (Family f : {Family::kIPv4, Family::kIPv6})
    if (filter.wants(f)) q.dumps_.push_back({f, build_request(f, states, *bytecode)});
  return q;
}

DumpFamilies ScanQuery::families() const {
  DumpFamilies f = DumpFamilies::none();
  for (const Dump& d : dumps_) (d.family == Family::kIPv4 ? f.ipv4 : f.ipv6) = true;
  return f;
}

}  // namespace tcpreap
