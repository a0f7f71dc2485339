// NameThisThread gives the calling thread a name that top -H, perf and /proc/<pid>/task/*/comm
// show, so that an operator can tell the writer from the indexer or an I/O thread.
#pragma once

#include <pthread.h>

namespace omniflow {

// `name` is at most 15 characters (the kernel's limit); a longer one is ignored.
inline void NameThisThread(const char* name) { (void)pthread_setname_np(pthread_self(), name); }

}  // namespace omniflow
