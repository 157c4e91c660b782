// FFTW 3, single precision (Debian: libfftw3-dev). fftwf_make_planner_thread_safe lives in
// libfftw3f_threads. `extern const char fftwf_version[]` does not import into Swift, hence the accessor.
#include <fftw3.h>
static inline const char *cfftw_version(void) { return fftwf_version; }
