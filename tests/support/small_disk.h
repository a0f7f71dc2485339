// A small tmpfs mounted on a fresh directory, for full-disk tests (mounting needs root, which CI
// has); unmounted on destruction. Resize() gives the space back, as an operator would.
// REQUIRE_SMALL_DISK(disk) ends a test whose disk could not be mounted: a failure under CI
// (environment variable CI set, as CI services do), a skip with the reason elsewhere.
#pragma once

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include "support/server_process.h"

namespace omniflow::testing {

class SmallDisk {
 public:
  explicit SmallDisk(const std::string& size) {
    path_ = dir_.path() + "/disk";
    std::filesystem::create_directories(path_);
    mounted_ = ::mount("omniflow-test", path_.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
    if (!mounted_) why_ = std::strerror(errno);
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool Resize(const std::string& size) {
    return ::mount("omniflow-test", path_.c_str(), "tmpfs", MS_REMOUNT, ("size=" + size).c_str()) == 0;
  }
  bool mounted() const { return mounted_; }
  const std::string& path() const { return path_; }
  // Why the mount failed (empty when mounted).
  std::string why_not_mounted() const {
    return mounted_ ? "" : "cannot mount a tmpfs on " + path_ + ": " + why_ + " (it needs root)";
  }

 private:
  TempDir dir_;
  std::string path_;
  bool mounted_ = false;
  std::string why_;
};

// True under continuous integration (CI set to anything but "", "0" or "false"), where a test
// that cannot set itself up must fail rather than skip: a skipped test would pass the build
// without testing anything.
inline bool RunningUnderCi() {
  const char* ci = std::getenv("CI");
  if (ci == nullptr) return false;
  std::string_view value = ci;
  return !value.empty() && value != "0" && value != "false";
}

}  // namespace omniflow::testing

// In a test body: ends the test when `disk` (a SmallDisk) is not mounted; FAIL() under CI,
// GTEST_SKIP() elsewhere, each with the reason.
#define REQUIRE_SMALL_DISK(disk)                                                              \
  do {                                                                                        \
    if (!(disk).mounted()) {                                                                  \
      if (::omniflow::testing::RunningUnderCi()) {                                            \
        FAIL() << (disk).why_not_mounted() << "; under CI (CI is set) this test must run";     \
      } else {                                                                                \
        GTEST_SKIP() << (disk).why_not_mounted() << "; under CI (CI set) this fails instead"; \
      }                                                                                       \
    }                                                                                         \
  } while (0)
