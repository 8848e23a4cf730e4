#pragma once
// Rewrites a SocketFilter into the shortest equivalent form this file knows,
// before it is compiled to kernel bytecode (bytecode_compiler.h): the kernel
// runs the program on every socket it walks, and the walk is a turn's whole
// cost, so every op saved is saved per socket, per namespace, per turn.
//
// The rewrites, each one keeps the set of sockets matched exactly:
//  - in a group ("any of"), port ranges of one end that overlap or touch
//    merge into one range, and a prefix inside another prefix of the same
//    end and family is dropped: "local_ports: [2181, 2182]" is one range
//    (GE + LE, 16 bytes) instead of two EQs and a jump (20 bytes);
//  - in a conjunction, a group that another group of it implies is dropped;
//  - of the alternative clauses (one per policy), a clause that implies
//    another is dropped: two policies on the same ports but different states
//    need the ports tested once;
//  - clauses of one group each are one group: "any of these conditions",
//    with one jump per condition instead of one per policy as well.
// SocketFilter::matches gives the same answer before and after for every
// socket (filter_simplifier_test checks it on random filters and sockets).
// States and families are untouched.

#include "filter/socket_filter.h"

namespace tcpreap {

SocketFilter simplify(SocketFilter filter);

}  // namespace tcpreap
