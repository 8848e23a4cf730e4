#pragma once
// Where the daemon's log goes: journald, when systemd connected stderr to the
// journal, or plain lines on stderr for a human.
//
// sd_journal_send() returns 0 and drops the message when journald is not
// running, so the choice is made once at start, from $JOURNAL_STREAM
// (systemd.exec(5)): systemd sets it to "DEV:INODE" of the stream it gave the
// service. Inherited by a child whose stderr was redirected, it no longer
// matches stderr, and the child writes lines as usual.

#include <sys/types.h>

#include <cstdint>

namespace tcpreap {

enum class LogTarget : uint8_t { kJournal, kStderr };

// kJournal iff $JOURNAL_STREAM names the file STDERR_FILENO is (fstat's
// st_dev:st_ino); kStderr otherwise, including when fstat fails.
LogTarget detect_log_target();

// Whether `env` ("DEV:INODE", both decimal, nothing else) names the file with
// `dev` and `ino`. A null, empty or malformed `env` matches nothing.
bool journal_stream_matches(const char* env, dev_t dev, ino_t ino);

}  // namespace tcpreap
