#pragma once
// Makes dead sockets go away by the configured method: SOCK_DESTROY, RST
// injection, or `auto` - SOCK_DESTROY, and RST injection for good once the
// kernel says it cannot destroy (EOPNOTSUPP): the sockets it answered so go
// to RST injection at once, even when another batch had transport trouble.
// Every socket gets an outcome. Not thread-safe.

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "net/tcp_socket.h"
#include "netns/socket_maker.h"
#include "reap/reap_outcome.h"

namespace tcpreap {

class Reaper {
 public:
  // One way of acting on many sockets: an outcome per socket, in order, or
  // an Error when the mechanism itself failed.
  using Method = std::function<Result<std::vector<ReapOutcome>>(std::span<const TcpSocket>)>;

  // Opens, in the maker's network namespace, what `method` needs: the
  // SOCK_DESTROY socket and the RST injector (their reopens too). An
  // injector that cannot open (no CAP_NET_RAW) is no error here: its reason
  // is kept, reported on the sockets that would have needed it, and by
  // rst_unavailable().
  static Result<Reaper> open(ReapMethod method, const SocketMaker& maker = SocketMaker::here());

  // For tests: the two methods given directly. `rst` may be empty, with
  // `rst_unavailable` saying why.
  Reaper(ReapMethod method, Method destroy, Method rst, std::string rst_unavailable = {});

  std::vector<ReapOutcome> reap(std::span<const TcpSocket> sockets);

  // `auto` met EOPNOTSUPP and uses RST injection from now on.
  bool switched_to_rst() const { return switched_; }
  // Said once: what opening the RST injector did worth saying
  // (RstInjector::open_note()), and the switch, when it happens (nullopt
  // otherwise, and after).
  std::optional<std::string> take_notice();
  // Why RST injection cannot be used, when it cannot (empty when it can).
  const std::string& rst_unavailable() const { return rst_unavailable_; }

 private:
  std::vector<ReapOutcome> via(const Method& m, ReapVia v, std::span<const TcpSocket> sockets);

  ReapMethod method_;
  Method destroy_;
  Method rst_;
  std::string rst_unavailable_;
  bool switched_ = false;
  std::optional<std::string> notice_;
};

}  // namespace tcpreap
