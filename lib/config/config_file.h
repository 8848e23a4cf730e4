#pragma once
// The config file as tcpreapd reads it at start and on every reload.
//
// Its directory is opened once, at start, while the daemon may still be
// root; each load then opens the file by name inside that directory. So a
// daemon that gave up root (tcpreapd --user) still reloads a config whose
// path crosses a directory closed to it (a checkout under /root), and a
// load always reads the file as it is now: an editor's rename, or a
// Kubernetes ConfigMap's symlink swap, is seen. The file itself must be
// readable by the user the daemon runs as.

#include <string>

#include "config/config_loader.h"
#include "core/unique_fd.h"

namespace tcpreap {

class ConfigFile {
 public:
  // Never fails: a directory that cannot be opened is reported by load().
  static ConfigFile open(std::string path);

  // The whole file, validated (load_config_text), or its diagnostics; an
  // unreadable file is one diagnostic naming the path and the errno text.
  ConfigLoad load() const;
  const std::string& path() const { return path_; }

 private:
  ConfigFile(std::string path, std::string name, UniqueFd dir, int dir_errno)
      : path_(std::move(path)), name_(std::move(name)), dir_(std::move(dir)), dir_errno_(dir_errno) {}

  std::string path_;  // as given, for messages
  std::string name_;  // the last component, opened in dir_
  UniqueFd dir_;      // O_PATH; invalid when dir_errno_ says why
  int dir_errno_ = 0;
};

}  // namespace tcpreap
