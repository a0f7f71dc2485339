// Clang thread-safety annotations: which mutex guards a member, which locks a function takes,
// releases or needs. Under clang with -Wthread-safety the compiler checks them; elsewhere they
// expand to nothing. See https://clang.llvm.org/docs/ThreadSafetyAnalysis.html.
#pragma once

#if defined(__clang__)
#define OMNIFLOW_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define OMNIFLOW_THREAD_ANNOTATION(x)
#endif

// On a class: its objects are capabilities (locks), e.g. CAPABILITY("mutex").
#define CAPABILITY(name) OMNIFLOW_THREAD_ANNOTATION(capability(name))

// On a class: an RAII object that holds a capability for its lifetime (MutexLock).
#define SCOPED_CAPABILITY OMNIFLOW_THREAD_ANNOTATION(scoped_lockable)

// On a data member: read or written only while `mu` is held.
#define GUARDED_BY(mu) OMNIFLOW_THREAD_ANNOTATION(guarded_by(mu))

// On a pointer member: the pointed-to data is read or written only while `mu` is held.
#define PT_GUARDED_BY(mu) OMNIFLOW_THREAD_ANNOTATION(pt_guarded_by(mu))

// On a mutex member: lock order; this one is taken before / after the listed ones.
#define ACQUIRED_BEFORE(...) OMNIFLOW_THREAD_ANNOTATION(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) OMNIFLOW_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))

// On a function: the caller must hold the capabilities (exclusively / at least shared).
#define REQUIRES(...) OMNIFLOW_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) OMNIFLOW_THREAD_ANNOTATION(requires_shared_capability(__VA_ARGS__))

// On a function: the caller must not hold the capabilities (the function takes them itself).
#define EXCLUDES(...) OMNIFLOW_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))

// On a function: it acquires / releases the capabilities (none listed: `this`).
#define ACQUIRE(...) OMNIFLOW_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define ACQUIRE_SHARED(...) OMNIFLOW_THREAD_ANNOTATION(acquire_shared_capability(__VA_ARGS__))
#define RELEASE(...) OMNIFLOW_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define RELEASE_SHARED(...) OMNIFLOW_THREAD_ANNOTATION(release_shared_capability(__VA_ARGS__))

// On a function: acquires the capabilities only when it returns `result` (a try-lock).
#define TRY_ACQUIRE(...) OMNIFLOW_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))

// On a function: after it returns, the capability is known to be held (checked at run time or
// by construction; the analysis takes its word).
#define ASSERT_CAPABILITY(x) OMNIFLOW_THREAD_ANNOTATION(assert_capability(x))

// On a function: it returns a reference to the capability `x` (an accessor for a mutex).
#define RETURN_CAPABILITY(x) OMNIFLOW_THREAD_ANNOTATION(lock_returned(x))

// On a function: the analysis skips it. Only for code whose locking it cannot follow; say why.
#define NO_THREAD_SAFETY_ANALYSIS OMNIFLOW_THREAD_ANNOTATION(no_thread_safety_analysis)
