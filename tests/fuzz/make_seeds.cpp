// Writes the fuzzer's seed corpus: well-formed dump datagrams built by the
// same helpers the unit tests use (IPv4 and IPv6, with and without tcp_info,
// DONE, ERROR, an interrupted dump).

#include <fstream>
#include <string>

#include "unit/netlink_builder.h"

using namespace tcpreap::testing;

namespace {

void write(const std::string& dir, const std::string& name, const std::vector<uint8_t>& d) {
  std::ofstream(dir + "/" + name, std::ios::binary).write(reinterpret_cast<const char*>(d.data()),
                                                          static_cast<std::streamsize>(d.size()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string dir = argv[1];
  const tcp_info ti = sample_tcp_info();
  std::vector<uint8_t> d;
  put_message(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, 1, 1, socket_payload(diag_msg(AF_INET, 1, "10.0.0.1", 2181, "10.0.0.2", 4000), &ti));
  put_message(d, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, 1, 1, socket_payload(diag_msg(AF_INET6, 1, "fd00::1", 2181, "::ffff:1.2.3.4", 4000), &ti, 40));
  write(dir, "two-sockets", d);
  put_message(d, NLMSG_DONE, NLM_F_MULTI, 1, 1, int_payload(0));
  write(dir, "two-sockets-done", d);
  std::vector<uint8_t> e;
  put_message(e, NLMSG_ERROR, 0, 1, 1, error_payload(-EPERM));
  write(dir, "error", e);
  std::vector<uint8_t> i;
  put_message(i, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI | NLM_F_DUMP_INTR, 1, 1, socket_payload(diag_msg(AF_INET, 8, "127.0.0.1", 1, "127.0.0.1", 2)));
  put_message(i, NLMSG_DONE, NLM_F_MULTI | NLM_F_DUMP_INTR, 1, 1, int_payload(0));
  write(dir, "interrupted", i);
  write(dir, "payload-only", socket_payload(diag_msg(AF_INET, 1, "10.0.0.1", 2181, "10.0.0.2", 4000), &ti));
  return 0;
}
