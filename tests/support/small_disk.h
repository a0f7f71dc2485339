// A small tmpfs mounted on a fresh directory, for full-disk tests (mounting needs root, which CI
// has); unmounted on destruction. Resize() gives the space back, as an operator would.
#pragma once

#include <sys/mount.h>

#include <filesystem>
#include <string>

#include "support/server_process.h"

namespace omniflow::testing {

class SmallDisk {
 public:
  explicit SmallDisk(const std::string& size) {
    path_ = dir_.path() + "/disk";
    std::filesystem::create_directories(path_);
    mounted_ = ::mount("omniflow-test", path_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool Resize(const std::string& size) {
    return ::mount("omniflow-test", path_.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0;
  }
  bool mounted() const { return mounted_; }
  const std::string& path() const { return path_; }

 private:
  TempDir dir_;
  std::string path_;
  bool mounted_ = false;
};

}  // namespace omniflow::testing
