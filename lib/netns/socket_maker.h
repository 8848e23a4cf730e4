#pragma once
// Where a socket is made: the one network namespace every socket of a tool
// (scanner, lookup, destroyer, raw senders, capture, route socket) belongs
// to, first opening and every later reopen alike.
//
// A tool keeps its maker (its TransportOpener captures one by value) and
// makes each replacement socket with it, so a socket reopened after a
// transport error lands in the namespace the tool was opened for - not in
// whatever namespace the reopening thread happens to be in.
//
// Lifetime contract: a maker of another namespace holds that namespace's
// descriptor (shared by all its copies) open as long as any copy lives, and
// an open descriptor keeps the namespace alive in the kernel. So a tool
// opened with a maker pins its namespace until the tool is dropped: callers
// must drop every maker - and every tool holding one - of a namespace that
// vanished, or it is never freed.
//
// Cheap to copy (one shared pointer); immutable; make() is thread-safe.

#include <memory>
#include <string>

#include "core/error.h"
#include "core/unique_fd.h"

namespace tcpreap {

class SocketMaker {
 public:
  // Plain socket(2) in the namespace of the thread calling make(): what
  // tcpreap did before it knew of other namespaces.
  static SocketMaker here();
  // Sockets made inside the network namespace `netns` (an open
  // /run/netns/NAME or /proc/PID/ns/net; not null) on a short-lived thread
  // (namespace_sockets.h: run_in_namespace). `label` names the namespace
  // in error messages: "net:[4026532]", "blue", a container's name.
  static SocketMaker in(std::shared_ptr<const UniqueFd> netns, std::string label);

  // socket(domain, type | SOCK_CLOEXEC, protocol) in the maker's namespace.
  // The Error names the socket ("opening a socket (AF_PACKET SOCK_DGRAM
  // protocol 0)"), the namespace when foreign ("in network namespace
  // LABEL"), and for EPERM/EACCES on a raw or packet socket the missing
  // CAP_NET_RAW; a refused setns() keeps its own explanation after that
  // (CAP_SYS_ADMIN, seccomp; errno EPERM too, so tell them by the message).
  Result<UniqueFd> make(int domain, int type, int protocol) const;

  // Whether sockets are made in a namespace given to in().
  bool foreign() const { return place_ != nullptr; }
  // The namespace file in() was given (borrowed; open while the maker
  // lives), or -1 for here().
  int netns_fd() const { return place_ ? place_->netns->get() : -1; }
  // in()'s label; for here(): "the calling thread's network namespace".
  const std::string& label() const;

 private:
  struct Place {
    std::shared_ptr<const UniqueFd> netns;
    std::string label;
  };
  explicit SocketMaker(std::shared_ptr<const Place> place) : place_(std::move(place)) {}

  std::shared_ptr<const Place> place_;  // null: here()
};

}  // namespace tcpreap
